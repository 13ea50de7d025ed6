//! `report serve`: previews `out/site` on 127.0.0.1; with `--watch`, rebuilds on every
//! edit of the experiments, the prose or the templates, and the open pages follow.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{RecvTimeoutError, channel};
use std::time::Duration;

use anyhow::{Context, Result};
use notify_debouncer_mini::notify::RecursiveMode;

use crate::build::{self, BuildOptions, Executor};
use crate::cli::ServeArgs;
use crate::project::Project;
use crate::render::serve::{Live, serve};

/// Serves the site until Ctrl-C.
pub fn run(project: &Project, args: ServeArgs) -> Result<()> {
    if !args.watch {
        return serve(&project.store.site(), args.port, None);
    }
    let root = project.root.clone();
    let opts = BuildOptions {
        profile: args.profile.name(project)?,
        only: Vec::new(),
        force: false,
        device: args.device,
        data: None,
        reuse_any_device: false,
        jobs: 1,
        executor: Executor::Local,
        tsne_threads: None,
    };
    let live = Arc::new(Live::default());
    let mut seen = contents(&root);
    rebuild(&root, &opts, &live);
    let site = project.store.site();
    let server = {
        let live = live.clone();
        std::thread::spawn(move || serve(&site, args.port, Some(live)))
    };

    let (tx, rx) = channel();
    // Editors save in bursts (a temporary file, a rename, a chmod): one rebuild for them.
    let mut debouncer = notify_debouncer_mini::new_debouncer(Duration::from_millis(300), tx)
        .context("cannot watch the project's files")?;
    for dir in watched(&root) {
        debouncer
            .watcher()
            .watch(&dir, RecursiveMode::Recursive)
            .with_context(|| format!("{}: cannot watch", dir.display()))?;
    }
    eprintln!("watching experiments/ and templates/ for changes");
    loop {
        if crate::interrupt::requested() || server.is_finished() {
            break;
        }
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(Ok(events)) if !events.is_empty() => {
                // Whatever else arrived while debouncing belongs to the same edit.
                while rx.try_recv().is_ok() {}
                // The OS also reports files merely opened (a build reads them all), and
                // an editor may save what was already there: only new content counts.
                let now = contents(&root);
                if now == seen {
                    continue;
                }
                seen = now;
                eprintln!("changed: {}", relative(&root, &events[0].path));
                rebuild(&root, &opts, &live);
            }
            Ok(Ok(_)) => {}
            Ok(Err(e)) => eprintln!("warning: watching: {e}"),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    match server.join() {
        Ok(result) => result,
        Err(_) => anyhow::bail!("the preview server stopped unexpectedly"),
    }
}

/// Re-reads the project and builds it: training what the edit requires, then rendering.
/// A failure is printed and shown on the open pages; the site keeps the last good report,
/// because a build renders only after everything before it succeeded.
fn rebuild(root: &Path, opts: &BuildOptions, live: &Live) {
    let result = Project::open(root).and_then(|project| build::build(&project, opts));
    match result {
        Ok(built) => {
            print!("{}", super::build::summary_table(&built));
            println!("rebuilt: {}", built.index.display());
            live.rebuilt();
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            live.failed(format!("{e:#}"));
        }
    }
}

/// The folders whose files make the report: the experiments (with the prose) and the
/// template overrides, where there are any.
fn watched(root: &Path) -> Vec<PathBuf> {
    ["experiments", "templates"]
        .iter()
        .map(|d| root.join(d))
        .filter(|d| d.is_dir())
        .collect()
}

/// The digest of every watched file's content (empty for a folder that cannot be read).
fn contents(root: &Path) -> Vec<String> {
    watched(root)
        .iter()
        .map(|d| crate::hash::path(d).unwrap_or_default())
        .collect()
}

fn relative(root: &Path, path: &Path) -> String {
    let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    path.strip_prefix(&root)
        .unwrap_or(path)
        .display()
        .to_string()
}
