//! What a downloaded file must be: its checksum (SHA-256 or MD5, whichever its publisher
//! prints), its size when the publisher states one, and the `--checksums` file that
//! replaces them for a test or a mirror of other files.

use std::borrow::Cow;
use std::path::Path;

use anyhow::{Result, bail};

use crate::hash;

/// A digest algorithm a publisher prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// SHA-256: 64 hex digits.
    Sha256,
    /// MD5: 32 hex digits; torchvision's only digest for MNIST and its look-alikes.
    Md5,
}

impl Algorithm {
    /// The name in messages.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Sha256 => "SHA-256",
            Algorithm::Md5 => "MD5",
        }
    }

    /// The digest's length in hex digits.
    fn hex_len(self) -> usize {
        match self {
            Algorithm::Sha256 => 64,
            Algorithm::Md5 => 32,
        }
    }
}

/// A digest a file must have. `Cow` so that the catalogue's digests are constants and a
/// `--checksums` file's are owned strings of the same type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checksum {
    /// How it is computed.
    pub algorithm: Algorithm,
    /// Lowercase hex.
    pub hex: Cow<'static, str>,
}

impl Checksum {
    /// A SHA-256 from the catalogue (lowercase hex; a unit test checks every entry).
    pub const fn sha256(hex: &'static str) -> Checksum {
        Checksum {
            algorithm: Algorithm::Sha256,
            hex: Cow::Borrowed(hex),
        }
    }

    /// An MD5 from the catalogue (lowercase hex; a unit test checks every entry).
    pub const fn md5(hex: &'static str) -> Checksum {
        Checksum {
            algorithm: Algorithm::Md5,
            hex: Cow::Borrowed(hex),
        }
    }

    /// A digest typed by hand: its length says the algorithm, as the two never share one.
    pub fn parse(hex: &str) -> Result<Checksum> {
        let algorithm = match hex.len() {
            64 => Algorithm::Sha256,
            32 => Algorithm::Md5,
            _ => bail!(
                "{hex}: expected an MD5 (32 hexadecimal digits) or a SHA-256 (64), \
                 got {} characters",
                hex.len()
            ),
        };
        Checksum::of_kind(algorithm, hex)
    }

    /// A digest typed by hand that must be of `algorithm`.
    pub fn of_kind(algorithm: Algorithm, hex: &str) -> Result<Checksum> {
        if hex.len() != algorithm.hex_len() || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            bail!(
                "{hex}: expected {} hexadecimal digits ({})",
                algorithm.hex_len(),
                algorithm.name()
            );
        }
        Ok(Checksum {
            algorithm,
            hex: Cow::Owned(hex.to_ascii_lowercase()),
        })
    }

    /// The same digest of `path`'s content.
    pub fn of_file(&self, path: &Path) -> Result<String> {
        match self.algorithm {
            Algorithm::Sha256 => hash::sha256_file(path),
            Algorithm::Md5 => hash::md5_file(path),
        }
    }
}

/// What one downloaded file must be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// Size in bytes, where the publisher states it; without it the checksum alone decides.
    pub size: Option<u64>,
    /// The digest.
    pub checksum: Checksum,
}

impl Expected {
    /// The `--sha256`/`--size` pair of a single-file release (a mirror of another file, or
    /// a test archive).
    pub fn new(sha256: &str, size: u64) -> Result<Expected> {
        if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            bail!("--sha256 {sha256}: expected 64 hexadecimal digits");
        }
        if size == 0 {
            bail!("--size 0: an archive is at least one byte");
        }
        Ok(Expected {
            size: Some(size),
            checksum: Checksum::of_kind(Algorithm::Sha256, sha256)?,
        })
    }
}

/// Reads a `--checksums` file: one `NAME HEX [SIZE]` line per file, where the length of
/// HEX says MD5 or SHA-256; blank lines and `#` comments are skipped. `source` names the
/// file in messages. Whether the names are the release's is for the caller to check.
pub fn parse_checksums(source: &str, text: &str) -> Result<Vec<(String, Expected)>> {
    let mut out: Vec<(String, Expected)> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let at = || format!("{source}:{}", i + 1);
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let (name, hex, size) = match words[..] {
            [name, hex] => (name, hex, None),
            [name, hex, size] => (name, hex, Some(size)),
            _ => bail!("{}: expected `NAME HEX [SIZE]`, got {line:?}", at()),
        };
        let checksum = Checksum::parse(hex).map_err(|e| anyhow::anyhow!("{}: {e}", at()))?;
        let size = match size.map(str::parse::<u64>) {
            None => None,
            Some(Ok(n)) if n > 0 => Some(n),
            Some(_) => bail!(
                "{}: size {:?} is not a positive number",
                at(),
                size.unwrap()
            ),
        };
        if out.iter().any(|(n, _)| n == name) {
            bail!("{}: {name} is listed twice", at());
        }
        out.push((name.to_owned(), Expected { size, checksum }));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_length_of_a_digest_chooses_its_algorithm() {
        let md5 = "D41D8CD98F00B204E9800998ECF8427E";
        let sha = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        let got = Checksum::parse(md5).unwrap();
        assert_eq!(got.algorithm, Algorithm::Md5);
        assert_eq!(got.hex, md5.to_ascii_lowercase(), "kept lowercase");
        assert_eq!(Checksum::parse(sha).unwrap().algorithm, Algorithm::Sha256);
        for bad in ["", "abc", &md5[1..], &format!("{sha}0")] {
            let err = Checksum::parse(bad).unwrap_err().to_string();
            assert!(
                err.contains("32 hexadecimal digits) or a SHA-256 (64)"),
                "{err}"
            );
        }
        let err = Checksum::parse(&md5.replace('D', "g"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("expected 32 hexadecimal digits (MD5)"),
            "{err}"
        );
        // --sha256 takes nothing else, an MD5 included.
        let err = Expected::new(md5, 1).unwrap_err().to_string();
        assert!(err.contains("64 hexadecimal digits"), "{err}");
        assert!(Expected::new(sha, 0).is_err());
        assert_eq!(
            Expected::new(&sha.to_ascii_uppercase(), 7).unwrap(),
            Expected {
                size: Some(7),
                checksum: Checksum::sha256(sha)
            }
        );
    }

    #[test]
    fn of_file_uses_the_algorithm_of_the_digest() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty");
        std::fs::write(&empty, b"").unwrap();
        let md5 = Checksum::md5("d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(md5.of_file(&empty).unwrap(), md5.hex);
        let sha =
            Checksum::sha256("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assert_eq!(sha.of_file(&empty).unwrap(), sha.hex);
    }

    #[test]
    fn checksums_files_give_name_digest_and_optional_size() {
        let sha = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        let text = format!(
            "# test files\n\na.gz d41d8cd98f00b204e9800998ecf8427e 12\n  b.gz {sha}  # no size\n"
        );
        let got = parse_checksums("sums.txt", &text).unwrap();
        assert_eq!(
            got,
            [
                (
                    "a.gz".to_owned(),
                    Expected {
                        size: Some(12),
                        checksum: Checksum::md5("d41d8cd98f00b204e9800998ecf8427e")
                    }
                ),
                (
                    "b.gz".to_owned(),
                    Expected {
                        size: None,
                        checksum: Checksum::sha256(sha)
                    }
                ),
            ]
        );
        for (text, needle) in [
            ("a.gz\n", "sums.txt:1: expected `NAME HEX [SIZE]`"),
            ("\na.gz abc\n", "sums.txt:2: abc: expected an MD5"),
            (
                "a.gz d41d8cd98f00b204e9800998ecf8427e 0",
                "sums.txt:1: size \"0\"",
            ),
            (
                "a.gz d41d8cd98f00b204e9800998ecf8427e x",
                "is not a positive number",
            ),
            (
                "a d41d8cd98f00b204e9800998ecf8427e 1 2",
                "expected `NAME HEX [SIZE]`",
            ),
            (
                "a d41d8cd98f00b204e9800998ecf8427e\na d41d8cd98f00b204e9800998ecf8427e",
                "sums.txt:2: a is listed twice",
            ),
        ] {
            let err = parse_checksums("sums.txt", text).unwrap_err().to_string();
            assert!(err.contains(needle), "{text:?}: {err}");
        }
    }
}
