//! How numbers are written for people: one formatter per kind of number, shared by the
//! terminal, the figures and the report, so that the same value reads the same
//! everywhere.

use chrono::{DateTime, Utc};

/// An integer with thousands separators: "2,133,178".
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// A fraction in [0, 1] as a percentage with `decimals` places: "68.4 %".
pub fn percent(fraction: f64, decimals: usize) -> String {
    format!("{:.*} %", decimals, 100.0 * fraction)
}

/// A cross-entropy loss: "1.3291".
pub fn loss(v: f64) -> String {
    format!("{v:.4}")
}

/// A size of a difference of fractions in percentage points: 0.001 → "0.10 pp".
pub fn pp(fraction: f64) -> String {
    format!("{:.2} pp", 100.0 * fraction)
}

/// A signed difference with `decimals` places and a unit: "+1.23 pp", "−0.40 pp",
/// "±0.00 pp" when it rounds to zero (a true minus sign, as typeset).
pub fn signed(value: f64, decimals: usize, unit: &str) -> String {
    let unit = if unit.is_empty() {
        String::new()
    } else {
        format!(" {unit}")
    };
    let rounded = format!("{:.*}", decimals, value.abs());
    if rounded.chars().all(|c| c == '0' || c == '.') {
        format!("±{rounded}{unit}")
    } else if value > 0.0 {
        format!("+{rounded}{unit}")
    } else {
        format!("−{rounded}{unit}")
    }
}

/// A p-value as papers print it: "p = 0.042", "p < 0.001".
pub fn p_value(p: f64) -> String {
    let bare = p_bare(p);
    if bare.starts_with('<') {
        format!("p {bare}")
    } else {
        format!("p = {bare}")
    }
}

/// A p-value inside a sentence that already names it: "0.042", "< 0.001".
pub fn p_bare(p: f64) -> String {
    if p < 0.001 {
        "< 0.001".to_owned()
    } else {
        format!("{p:.3}")
    }
}

/// A mean fraction and its standard deviation as percentages: "62.31 ± 1.20 %".
pub fn percent_spread(mean: f64, sd: f64, decimals: usize) -> String {
    format!(
        "{:.*} ± {:.*} %",
        decimals,
        100.0 * mean,
        decimals,
        100.0 * sd
    )
}

/// A duration as people say it: "42 s", "3 min 05 s", "1 h 02 min".
pub fn duration(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as i64;
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min {:02} s", s / 60, s % 60),
        _ => format!("{} h {:02} min", s / 3600, (s % 3600) / 60),
    }
}

/// A setting's value as an author would write it: `0.01`, `0.9`, and `1e-8` rather
/// than `0.00000001`.
pub fn setting(x: f64) -> String {
    if x != 0.0 && x.abs() < 1e-4 {
        format!("{x:e}")
    } else {
        format!("{x}")
    }
}

/// A UTC instant to the second: "2026-11-28 17:02:11".
pub fn timestamp(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// The first 16 hex digits of a digest, enough to tell runs and data apart at a glance.
pub fn short_digest(hex: &str) -> String {
    hex[..16.min(hex.len())].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_groups_from_the_right() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1216), "1,216");
        assert_eq!(thousands(2_133_178), "2,133,178");
        assert_eq!(thousands(-45_000), "-45,000");
    }

    #[test]
    fn percent_rounds_to_the_places_asked() {
        assert_eq!(percent(0.68421, 2), "68.42 %");
        assert_eq!(percent(0.68421, 1), "68.4 %");
        assert_eq!(percent(1.0, 1), "100.0 %");
    }

    #[test]
    fn signed_differences_and_p_values_read_as_printed() {
        assert_eq!(signed(1.234, 2, "pp"), "+1.23 pp");
        assert_eq!(signed(-0.4, 2, "pp"), "−0.40 pp");
        assert_eq!(signed(-0.004, 2, "pp"), "±0.00 pp");
        assert_eq!(signed(0.0123, 3, ""), "+0.012");
        assert_eq!(p_value(0.04231), "p = 0.042");
        assert_eq!(p_value(0.0004), "p < 0.001");
        assert_eq!(p_value(1.0), "p = 1.000");
        assert_eq!(
            (p_bare(0.04231), p_bare(0.0004)),
            ("0.042".into(), "< 0.001".into())
        );
        assert_eq!(percent_spread(0.623149, 0.012, 2), "62.31 ± 1.20 %");
    }

    #[test]
    fn durations_read_as_spoken() {
        assert_eq!(duration(0.4), "0 s");
        assert_eq!(duration(59.4), "59 s");
        assert_eq!(duration(185.0), "3 min 05 s");
        assert_eq!(duration(3720.0), "1 h 02 min");
        assert_eq!(duration(-3.0), "0 s");
    }

    #[test]
    fn settings_keep_small_values_short() {
        assert_eq!(setting(0.01), "0.01");
        assert_eq!(setting(1e-8), "1e-8");
        assert_eq!(setting(0.0), "0");
        assert_eq!(short_digest("0123456789abcdef0123"), "0123456789abcdef");
        assert_eq!(short_digest("abc"), "abc");
    }
}
