//! `[data]` of `report.toml`: how the images of every profile's data are prepared
//! before training sees them, in torchvision's terms: `Grayscale()` when asked, then
//! `Resize`, `CenterCrop`. The settings are part of the data's fingerprint, so changing one
//! retrains what it affects and nothing reuses runs trained on other pixels.

use serde::{Deserialize, Serialize};

/// The largest `image_size` or `resize`: far above what these CNNs train on, low enough
/// that a typo (`image_size = 2240`) is an error instead of a 20 GB decoded cache.
pub const MAX_IMAGE_SIDE: u32 = 1024;

/// `[data]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "DataTable")]
pub struct DataSettings {
    /// Side of the square images training sees: each image is resized so that its
    /// shorter side is [`DataSettings::resize`] and centre-cropped to this size. Unset:
    /// images are used at their own size, which must then be the same for all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_size: Option<u32>,
    /// The shorter side after resizing, before the centre crop (torchvision's
    /// `Resize(resize)`); `image_size` when unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resize: Option<u32>,
    /// Colour of the images training sees; unset: the data's own (RGB for CIFAR and
    /// image folders, grayscale for the MNIST family).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub color: Option<Color>,
    /// Which CIFAR-100 labels to train on; unset: the 100 fine classes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub labels: Option<LabelSet>,
}

/// The colour of the prepared images.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Color {
    /// Three channels, R, G, B (grayscale images repeat their one channel).
    Rgb,
    /// One channel, PIL's `convert("L")`: L = R·299/1000 + G·587/1000 + B·114/1000.
    Grayscale,
}

/// CIFAR-100's two label sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LabelSet {
    /// The 100 classes.
    Fine,
    /// The 20 superclasses.
    Coarse,
}

/// `[data]` as written, before its values are checked together.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DataTable {
    image_size: Option<i64>,
    resize: Option<i64>,
    color: Option<Color>,
    labels: Option<LabelSet>,
}

impl TryFrom<DataTable> for DataSettings {
    type Error = String;
    fn try_from(t: DataTable) -> Result<Self, String> {
        let side = |key: &str, v: Option<i64>| -> Result<Option<u32>, String> {
            match v {
                None => Ok(None),
                Some(n) if (1..=i64::from(MAX_IMAGE_SIDE)).contains(&n) => Ok(Some(n as u32)),
                Some(n) => Err(format!(
                    "{key} must be between 1 and {MAX_IMAGE_SIDE} pixels, got {n}"
                )),
            }
        };
        let image_size = side("image_size", t.image_size)?;
        let resize = side("resize", t.resize)?;
        match (image_size, resize) {
            (None, Some(_)) => {
                return Err("resize needs image_size: the size the centre crop cuts out".into());
            }
            (Some(size), Some(r)) if r < size => {
                return Err(format!(
                    "resize {r} is smaller than image_size {size}: the centre crop would not fit"
                ));
            }
            _ => {}
        }
        Ok(DataSettings {
            image_size,
            resize,
            color: t.color,
            labels: t.labels,
        })
    }
}

impl DataSettings {
    /// `(shorter side after resizing, crop side)` when images are resized.
    pub fn resize_and_crop(&self) -> Option<(u32, u32)> {
        self.image_size
            .map(|size| (self.resize.unwrap_or(size), size))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<DataSettings, String> {
        toml::from_str::<DataSettings>(text).map_err(|e| e.message().to_owned())
    }

    #[test]
    fn settings_read_check_and_hash_only_what_is_written() {
        let s = parse("image_size = 64\nresize = 72\ncolor = \"grayscale\"").unwrap();
        assert_eq!(s.resize_and_crop(), Some((72, 64)));
        assert_eq!(s.color, Some(Color::Grayscale));
        assert_eq!(
            parse("image_size = 28").unwrap().resize_and_crop(),
            Some((28, 28))
        );
        // Unset keys are left out, so adding a key later keeps old fingerprints.
        assert_eq!(
            serde_json::to_string(&DataSettings::default()).unwrap(),
            "{}"
        );
        assert_eq!(
            serde_json::to_string(&parse("labels = \"coarse\"").unwrap()).unwrap(),
            r#"{"labels":"coarse"}"#
        );
    }

    #[test]
    fn bad_settings_are_named() {
        for (text, expected) in [
            ("resize = 40", "resize needs image_size"),
            (
                "image_size = 32\nresize = 30",
                "resize 30 is smaller than image_size 32",
            ),
            (
                "image_size = 0",
                "image_size must be between 1 and 1024 pixels, got 0",
            ),
            ("image_size = 5000", "got 5000"),
            ("color = \"sepia\"", "unknown variant `sepia`"),
            ("labels = \"both\"", "unknown variant `both`"),
            ("size = 3", "unknown field `size`"),
        ] {
            let err = parse(text).unwrap_err();
            assert!(err.contains(expected), "{text}: {err}");
        }
    }
}
