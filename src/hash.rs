//! The one place that hashes: content fingerprints of files, folders and values.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use anyhow::{Context, Result};
use serde::Serialize;

/// A hex BLAKE3 digest that identifies content.
pub type Digest = String;

/// Hashes bytes.
pub fn bytes(data: &[u8]) -> Digest {
    blake3::hash(data).to_hex().to_string()
}

/// Hashes a value through its canonical JSON form (struct fields in declaration order,
/// maps sorted), so equal values give equal digests across runs and machines.
pub fn value<T: Serialize>(v: &T) -> Digest {
    bytes(&serde_json::to_vec(v).expect("serialisable value"))
}

/// Hashes a file's content, streaming.
pub fn file(path: &Path) -> Result<Digest> {
    let mut hasher = blake3::Hasher::new();
    stream(path, |chunk| {
        hasher.update(chunk);
    })?;
    Ok(hasher.finalize().to_hex().to_string())
}

/// Hex SHA-256 of a file's content, streaming: for checking downloads against the digests
/// that dataset publishers print, which are not BLAKE3.
pub fn sha256_file(path: &Path) -> Result<String> {
    use sha2::{Digest as _, Sha256};
    let mut hasher = Sha256::new();
    stream(path, |chunk| hasher.update(chunk))?;
    Ok(format!("{:x}", hasher.finalize()))
}

/// Hex MD5 of a file's content, streaming: torchvision publishes only MD5s for MNIST and
/// its look-alikes. It checks that a download is the published file, not that nobody
/// tampered with it, which MD5 can no longer promise.
pub fn md5_file(path: &Path) -> Result<String> {
    use md5::{Digest as _, Md5};
    let mut hasher = Md5::new();
    stream(path, |chunk| hasher.update(chunk))?;
    Ok(format!("{:x}", hasher.finalize()))
}

/// Feeds a file to `consume` in 1 MiB chunks, so large files never sit in memory.
fn stream(path: &Path, mut consume: impl FnMut(&[u8])) -> Result<()> {
    let mut f = File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f
            .read(&mut buf)
            .with_context(|| format!("cannot read {}", path.display()))?;
        if n == 0 {
            return Ok(());
        }
        consume(&buf[..n]);
    }
}

/// Hashes a file or a folder tree: relative paths (sorted) and contents.
pub fn path(p: &Path) -> Result<Digest> {
    if p.is_file() {
        return file(p);
    }
    let mut entries = Vec::new();
    collect(p, p, &mut entries)?;
    entries.sort();
    let mut hasher = blake3::Hasher::new();
    for rel in entries {
        let digest = file(&p.join(&rel))?;
        hasher.update(rel.as_bytes());
        hasher.update(&[0]);
        hasher.update(digest.as_bytes());
    }
    Ok(hasher.finalize().to_hex().to_string())
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<String>) -> Result<()> {
    let rd = std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?;
    for entry in rd {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            collect(root, &path, out)?;
        } else {
            let rel = path.strip_prefix(root).expect("inside root");
            out.push(rel.to_string_lossy().replace('\\', "/"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_digest_depends_on_names_and_content() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("a")).unwrap();
        std::fs::write(dir.path().join("a/x"), b"1").unwrap();
        let d1 = path(dir.path()).unwrap();
        assert_eq!(d1, path(dir.path()).unwrap());
        std::fs::write(dir.path().join("a/x"), b"2").unwrap();
        let d2 = path(dir.path()).unwrap();
        assert_ne!(d1, d2);
        std::fs::rename(dir.path().join("a/x"), dir.path().join("a/y")).unwrap();
        assert_ne!(d2, path(dir.path()).unwrap());
    }

    #[test]
    fn sha256_file_matches_the_published_test_vector() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("abc");
        std::fs::write(&f, b"abc").unwrap();
        assert_eq!(
            sha256_file(&f).unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let err = sha256_file(&dir.path().join("none")).unwrap_err();
        assert!(format!("{err:#}").contains("cannot read"), "{err:#}");
    }

    #[test]
    fn md5_file_matches_the_rfc_1321_test_vectors() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("f");
        for (text, md5) in [
            ("", "d41d8cd98f00b204e9800998ecf8427e"),
            ("abc", "900150983cd24fb0d6963f7d28e17f72"),
            ("message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
        ] {
            std::fs::write(&f, text).unwrap();
            assert_eq!(md5_file(&f).unwrap(), md5, "{text:?}");
        }
        // Past one 1 MiB chunk, so a chunk dropped or fed twice changes the digest.
        std::fs::write(&f, vec![b'a'; (1 << 20) + 1]).unwrap();
        let whole = {
            use md5::{Digest as _, Md5};
            format!("{:x}", Md5::digest(vec![b'a'; (1 << 20) + 1]))
        };
        assert_eq!(md5_file(&f).unwrap(), whole);
        let err = md5_file(&dir.path().join("none")).unwrap_err();
        assert!(format!("{err:#}").contains("cannot read"), "{err:#}");
    }

    #[test]
    fn value_digest_is_stable() {
        assert_eq!(value(&(1, "a")), value(&(1, "a")));
        assert_ne!(value(&(1, "a")), value(&(1, "b")));
        assert_eq!(bytes(b"abc").len(), 64);
    }
}
