//! A run's trained weights as bytes: safetensors, named as PyTorch names them
//! (`conv1.weight`, `bn1.running_mean`), each tensor contiguous float32.
//!
//! The bytes are made here and written by the one atomic writer (`fsx`), never by
//! libtorch's own saver: that one embeds the temporary file's name in its archive
//! (so equal weights gave different bytes) and, on a full disk, throws from a C++
//! destructor, which aborts the process. safetensors lays tensors out in a fixed
//! order (by dtype, then name) with no timestamps, so equal weights give equal bytes.

use anyhow::{Context, Result, bail};
use safetensors::tensor::{Dtype, TensorView};
use tch::{Device, Kind, nn};

/// The weights of `vs` as a safetensors file.
pub fn safetensors(vs: &nn::VarStore) -> Result<Vec<u8>> {
    let mut named: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
    for (name, tensor) in vs.variables() {
        if tensor.kind() != Kind::Float {
            bail!("weights: {name} is {:?}, not float32", tensor.kind());
        }
        let flat = tensor
            .detach()
            .to_device(Device::Cpu)
            .contiguous()
            .view([-1]);
        let values = Vec::<f32>::try_from(&flat).with_context(|| format!("weights: {name}"))?;
        let shape = tensor.size().iter().map(|&d| d as usize).collect();
        let bytes = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        // tch names variables by sub-path with dots (`conv1.weight`), as PyTorch's
        // state_dict does; only libtorch's archive format rewrote them to `conv1|weight`.
        named.push((name, shape, bytes));
    }
    named.sort_by(|a, b| a.0.cmp(&b.0));
    let views = named
        .iter()
        .map(|(name, shape, bytes)| {
            TensorView::new(Dtype::F32, shape.clone(), bytes)
                .map(|view| (name.as_str(), view))
                .with_context(|| format!("weights: {name}"))
        })
        .collect::<Result<Vec<_>>>()?;
    safetensors::tensor::serialize(views, &None).context("weights: cannot serialise")
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Tensor;

    #[test]
    fn same_weights_same_bytes_with_pytorch_names() {
        let make = || {
            let vs = nn::VarStore::new(Device::Cpu);
            let root = vs.root();
            let _conv = nn::conv2d(&root / "conv1", 3, 4, 3, Default::default());
            let _bn = nn::batch_norm2d(&root / "bn1", 4, Default::default());
            vs
        };
        // Equal values by copying, not by reseeding libtorch's generator: it is global,
        // and other tests draw from it in parallel threads.
        let (a, mut b) = (make(), make());
        b.copy(&a).unwrap();
        let bytes = safetensors(&a).unwrap();
        assert_eq!(
            bytes,
            safetensors(&b).unwrap(),
            "equal weights, equal bytes"
        );
        let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
        let mut names = file.names();
        names.sort();
        assert_eq!(
            names,
            [
                "bn1.bias",
                "bn1.running_mean",
                "bn1.running_var",
                "bn1.weight",
                "conv1.bias",
                "conv1.weight"
            ]
        );
        let w = file.tensor("conv1.weight").unwrap();
        assert_eq!(w.shape(), [4, 3, 3, 3]);
        let stored: Vec<f32> = w
            .data()
            .chunks(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
            .collect();
        let vars = a.variables();
        let want = Vec::<f32>::try_from(&vars["conv1.weight"].view([-1])).unwrap();
        assert_eq!(stored, want);
        // A channels-last tensor is stored in logical (contiguous) order.
        let cl = Tensor::arange(24, (Kind::Float, Device::Cpu))
            .view([1, 2, 3, 4])
            .permute([0, 2, 3, 1])
            .contiguous()
            .permute([0, 3, 1, 2]);
        assert!(!cl.is_contiguous(), "strides are channels-last");
        let flat = Vec::<f32>::try_from(&cl.contiguous().view([-1])).unwrap();
        assert_eq!(flat, (0..24).map(|x| x as f32).collect::<Vec<_>>());
    }
}
