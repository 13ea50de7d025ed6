//! A minimal NumPy `.npy` (version 1.0) writer and reader for the two arrays the store
//! keeps: float32 matrices and uint8 vectors, little-endian, C order. NumPy and pandas
//! read them as they are.

use anyhow::{Result, bail};

/// A 2-D float32 array.
#[derive(Debug, Clone, PartialEq)]
pub struct MatrixF32 {
    /// Rows.
    pub rows: usize,
    /// Columns.
    pub cols: usize,
    /// Row-major values.
    pub data: Vec<f32>,
}

const MAGIC: &[u8] = b"\x93NUMPY\x01\x00";

fn encode(descr: &str, shape: &str, payload: &[u8]) -> Vec<u8> {
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    // Magic, version and length take 10 bytes; the header ends in '\n' at a multiple of 64.
    let total = (10 + header.len() + 1).div_ceil(64) * 64;
    header.push_str(&" ".repeat(total - 10 - header.len() - 1));
    header.push('\n');
    let mut out = Vec::with_capacity(total + payload.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(payload);
    out
}

fn decode<'a>(bytes: &'a [u8], descr: &str) -> Result<(Vec<usize>, &'a [u8])> {
    if bytes.len() < 10 || &bytes[..8] != MAGIC {
        bail!("not a .npy version 1.0 file");
    }
    let len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    let Some(header) = bytes.get(10..10 + len) else {
        bail!("truncated header");
    };
    let header = std::str::from_utf8(header)?;
    if !header.contains(&format!("'descr': '{descr}'"))
        || !header.contains("'fortran_order': False")
    {
        bail!(
            "expected a C-order '{descr}' array, header is {}",
            header.trim()
        );
    }
    let shape = header
        .split("'shape': (")
        .nth(1)
        .and_then(|s| s.split(')').next())
        .ok_or_else(|| anyhow::anyhow!("no shape in header"))?;
    let dims = shape
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::parse)
        .collect::<Result<Vec<usize>, _>>()?;
    Ok((dims, &bytes[10 + len..]))
}

/// Encodes a float32 matrix.
pub fn encode_f32(m: &MatrixF32) -> Vec<u8> {
    let payload: Vec<u8> = m.data.iter().flat_map(|v| v.to_le_bytes()).collect();
    encode("<f4", &format!("({}, {})", m.rows, m.cols), &payload)
}

/// Decodes a float32 matrix, checking that the payload has exactly the stated size.
pub fn decode_f32(bytes: &[u8]) -> Result<MatrixF32> {
    let (dims, payload) = decode(bytes, "<f4")?;
    let [rows, cols] = dims[..] else {
        bail!("expected a 2-D array, got shape {dims:?}")
    };
    if payload.len() != rows * cols * 4 {
        bail!(
            "expected {} bytes of data for {rows}×{cols}, found {}",
            rows * cols * 4,
            payload.len()
        );
    }
    let data = payload
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    Ok(MatrixF32 { rows, cols, data })
}

/// Encodes a uint8 vector.
pub fn encode_u8(v: &[u8]) -> Vec<u8> {
    encode("|u1", &format!("({},)", v.len()), v)
}

/// Decodes a uint8 vector.
pub fn decode_u8(bytes: &[u8]) -> Result<Vec<u8>> {
    let (dims, payload) = decode(bytes, "|u1")?;
    let [n] = dims[..] else {
        bail!("expected a 1-D array, got shape {dims:?}")
    };
    if payload.len() != n {
        bail!("expected {n} bytes of data, found {}", payload.len());
    }
    Ok(payload.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_aligns_header() {
        let m = MatrixF32 {
            rows: 2,
            cols: 3,
            data: vec![1.0, -2.5, 3.0, 0.0, 5.5, f32::MAX],
        };
        let bytes = encode_f32(&m);
        assert_eq!(
            (10 + u16::from_le_bytes([bytes[8], bytes[9]]) as usize) % 64,
            0
        );
        assert_eq!(decode_f32(&bytes).unwrap(), m);
        assert_eq!(decode_u8(&encode_u8(&[7, 0, 255])).unwrap(), [7, 0, 255]);
    }

    #[test]
    fn truncated_or_foreign_files_are_errors() {
        let bytes = encode_f32(&MatrixF32 {
            rows: 2,
            cols: 2,
            data: vec![0.0; 4],
        });
        assert!(
            decode_f32(&bytes[..bytes.len() - 1])
                .unwrap_err()
                .to_string()
                .contains("16 bytes")
        );
        assert!(decode_f32(b"hello world").is_err());
        assert!(decode_u8(&bytes).unwrap_err().to_string().contains("|u1"));
    }
}
