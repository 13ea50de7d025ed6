//! `--device auto|cpu|cuda[:N]`, and what the chosen device is called.

use std::fmt;
use std::str::FromStr;

use anyhow::{Result, bail};
use tch::{Cuda, Device};

use crate::plan::DeviceKind;

/// The device a user asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceChoice {
    /// CUDA device 0 when available, else the CPU.
    Auto,
    /// The CPU.
    Cpu,
    /// CUDA device N.
    Cuda(usize),
}

impl FromStr for DeviceChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(DeviceChoice::Auto),
            "cpu" => Ok(DeviceChoice::Cpu),
            "cuda" => Ok(DeviceChoice::Cuda(0)),
            _ => s
                .strip_prefix("cuda:")
                .and_then(|n| n.parse().ok())
                .map(DeviceChoice::Cuda)
                .ok_or_else(|| format!("unknown device {s:?}: use auto, cpu, cuda or cuda:N")),
        }
    }
}

impl fmt::Display for DeviceChoice {
    /// As `--device` takes it, so that a worker is handed the parent's choice.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceChoice::Auto => f.write_str("auto"),
            DeviceChoice::Cpu => f.write_str("cpu"),
            DeviceChoice::Cuda(n) => write!(f, "cuda:{n}"),
        }
    }
}

impl DeviceChoice {
    /// The libtorch device, failing clearly when CUDA was asked for but is absent.
    pub fn resolve(self) -> Result<Device> {
        match self {
            DeviceChoice::Cpu => Ok(Device::Cpu),
            DeviceChoice::Auto => Ok(Device::cuda_if_available()),
            DeviceChoice::Cuda(n) => {
                let count = Cuda::device_count() as usize;
                if n >= count {
                    bail!(
                        "--device cuda:{n}: this machine has {count} CUDA device(s) visible to libtorch"
                    );
                }
                Ok(Device::Cuda(n))
            }
        }
    }
}

/// The kind of `device`, as run keys name it.
pub fn kind(device: Device) -> DeviceKind {
    match device {
        Device::Cuda(_) => DeviceKind::Cuda,
        _ => DeviceKind::Cpu,
    }
}

/// `cpu` or `cuda:N`, as recorded.
pub fn label(device: Device) -> String {
    match device {
        Device::Cuda(n) => format!("cuda:{n}"),
        _ => "cpu".into(),
    }
}

/// The processor's or GPU's model name, read from the operating system.
pub fn name(device: Device) -> String {
    let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
    match device {
        Device::Cuda(n) => {
            let mut gpus: Vec<String> = std::fs::read_dir("/proc/driver/nvidia/gpus")
                .map(|rd| {
                    rd.filter_map(|e| e.ok())
                        .map(|e| e.path().join("information").display().to_string())
                        .collect()
                })
                .unwrap_or_default();
            gpus.sort();
            gpus.get(n)
                .and_then(|p| {
                    read(p)
                        .lines()
                        .find_map(|l| l.strip_prefix("Model:").map(|m| m.trim().to_owned()))
                })
                .unwrap_or_else(|| format!("CUDA device {n}"))
        }
        _ => read("/proc/cpuinfo")
            .lines()
            .find_map(|l| {
                l.strip_prefix("model name")
                    .map(|m| m.trim_start_matches([' ', '\t', ':']).to_owned())
            })
            .unwrap_or_else(|| std::env::consts::ARCH.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_device_names() {
        assert_eq!("auto".parse(), Ok(DeviceChoice::Auto));
        assert_eq!("cuda".parse(), Ok(DeviceChoice::Cuda(0)));
        assert_eq!("cuda:3".parse(), Ok(DeviceChoice::Cuda(3)));
        assert!("gpu".parse::<DeviceChoice>().unwrap_err().contains("gpu"));
        assert_eq!(DeviceChoice::Cpu.resolve().unwrap(), Device::Cpu);
        for d in [DeviceChoice::Auto, DeviceChoice::Cpu, DeviceChoice::Cuda(2)] {
            assert_eq!(d.to_string().parse(), Ok(d), "{d} reads back");
        }
    }
}
