//! The learning rate of each epoch: warm-up, then the schedule, by PyTorch's formulas.
//!
//! An experiment's `lr_schedule` and `warmup_epochs` are checked here once, and the
//! trainer asks [`learning_rate`] at the start of every epoch. With `warmup_epochs = w`
//! the run is PyTorch's `SequentialLR([LinearLR(start_factor=1/w, total_iters=w-1),
//! schedule], milestones=[w])`: epochs 1..=w train at lr·1/w, lr·2/w, …, lr, and the
//! schedule starts from step 0 at epoch w + 1.

use super::spec::LrSchedule;

/// Checks a schedule against the run's epochs; fills in a cosine's default `t_max`.
pub fn check(
    schedule: Option<&LrSchedule>,
    warmup: i64,
    epochs: i64,
) -> Result<Option<LrSchedule>, String> {
    if !(0..=epochs).contains(&warmup) {
        return Err(format!(
            "[training] warmup_epochs must be between 0 and the {epochs} epochs, got {warmup}"
        ));
    }
    let factor = |gamma: f64| {
        if gamma.is_finite() && gamma > 0.0 {
            Ok(())
        } else {
            Err(format!(
                "[training] lr_schedule: gamma must be positive, got {gamma}"
            ))
        }
    };
    let Some(schedule) = schedule else {
        return Ok(None);
    };
    Ok(Some(match schedule {
        LrSchedule::Step { step_size, gamma } => {
            if *step_size <= 0 {
                return Err(format!(
                    "[training] lr_schedule: step_size must be positive, got {step_size}"
                ));
            }
            factor(*gamma)?;
            schedule.clone()
        }
        LrSchedule::Multistep { milestones, gamma } => {
            if milestones.is_empty()
                || milestones[0] <= 0
                || milestones.windows(2).any(|w| w[0] >= w[1])
            {
                return Err(format!(
                    "[training] lr_schedule: milestones must be positive and increasing, got {milestones:?}"
                ));
            }
            factor(*gamma)?;
            schedule.clone()
        }
        LrSchedule::Cosine { t_max, eta_min } => {
            let t_max = t_max.unwrap_or((epochs - warmup).max(1));
            if t_max <= 0 {
                return Err(format!(
                    "[training] lr_schedule: t_max must be positive, got {t_max}"
                ));
            }
            if !(eta_min.is_finite() && *eta_min >= 0.0) {
                return Err(format!(
                    "[training] lr_schedule: eta_min must be 0 or more, got {eta_min}"
                ));
            }
            LrSchedule::Cosine {
                t_max: Some(t_max),
                eta_min: *eta_min,
            }
        }
    }))
}

/// The learning rate of 1-based `epoch` for an optimizer whose own rate is `lr`.
pub fn learning_rate(lr: f64, schedule: Option<&LrSchedule>, warmup: i64, epoch: i64) -> f64 {
    let step = epoch - 1;
    if step < warmup {
        return lr * (step + 1) as f64 / warmup as f64;
    }
    let step = step - warmup;
    match schedule {
        None => lr,
        Some(LrSchedule::Step { step_size, gamma }) => lr * gamma.powi((step / step_size) as i32),
        Some(LrSchedule::Multistep { milestones, gamma }) => {
            lr * gamma.powi(milestones.iter().filter(|m| **m <= step).count() as i32)
        }
        Some(LrSchedule::Cosine { t_max, eta_min }) => {
            let t_max = t_max.expect("filled in by check") as f64;
            eta_min
                + (lr - eta_min) * (1.0 + (std::f64::consts::PI * step as f64 / t_max).cos()) / 2.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rates(schedule: Option<&LrSchedule>, warmup: i64, epochs: i64) -> Vec<f64> {
        (1..=epochs)
            .map(|e| learning_rate(0.1, schedule, warmup, e))
            .collect()
    }

    fn close(got: &[f64], want: &[f64]) {
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(want) {
            assert!(
                (g - w).abs() <= 1e-12 * w.abs().max(1e-300),
                "{got:?} vs {want:?}"
            );
        }
    }

    #[test]
    fn schedules_follow_pytorch() {
        // Printed by torch 2.11.0, `optimizer.param_groups[0]["lr"]` before each epoch's
        // `scheduler.step()`, for SGD(lr=0.1):
        // StepLR(step_size=2, gamma=0.5), 5 epochs
        let step = LrSchedule::Step {
            step_size: 2,
            gamma: 0.5,
        };
        close(&rates(Some(&step), 0, 5), &[0.1, 0.1, 0.05, 0.05, 0.025]);
        // MultiStepLR(milestones=[1, 3], gamma=0.1), 4 epochs
        let multi = LrSchedule::Multistep {
            milestones: vec![1, 3],
            gamma: 0.1,
        };
        close(
            &rates(Some(&multi), 0, 4),
            &[
                0.1,
                0.010000000000000002,
                0.010000000000000002,
                0.0010000000000000002,
            ],
        );
        // CosineAnnealingLR(T_max=4, eta_min=0.01), 5 epochs
        let cosine = check(
            Some(&LrSchedule::Cosine {
                t_max: Some(4),
                eta_min: 0.01,
            }),
            0,
            5,
        )
        .unwrap();
        close(
            &rates(cosine.as_ref(), 0, 5),
            &[
                0.1,
                0.08681980515339464,
                0.05500000000000001,
                0.023180194846605363,
                0.01,
            ],
        );
        // SequentialLR([LinearLR(start_factor=1/3, total_iters=2), ConstantLR(factor=1)],
        // milestones=[3]): warm-up 3, then constant.
        close(
            &rates(None, 3, 5),
            &[0.03333333333333333, 0.06666666666666667, 0.1, 0.1, 0.1],
        );
        // SequentialLR([LinearLR(start_factor=1/2, total_iters=1), the cosine above],
        // milestones=[2]): warm-up 2, then the cosine from its step 0.
        close(
            &rates(cosine.as_ref(), 2, 7),
            &[
                0.05,
                0.1,
                0.1,
                0.08681980515339464,
                0.05500000000000001,
                0.023180194846605363,
                0.01,
            ],
        );
    }

    #[test]
    fn bad_schedules_are_refused_with_their_value() {
        let err = |s: LrSchedule, w: i64| check(Some(&s), w, 10).unwrap_err();
        assert!(
            err(
                LrSchedule::Step {
                    step_size: 0,
                    gamma: 0.1
                },
                0
            )
            .contains("step_size")
        );
        assert!(
            err(
                LrSchedule::Multistep {
                    milestones: vec![5, 3],
                    gamma: 0.1
                },
                0
            )
            .contains("[5, 3]")
        );
        assert!(
            err(
                LrSchedule::Step {
                    step_size: 2,
                    gamma: -1.0
                },
                0
            )
            .contains("gamma")
        );
        assert!(check(None, 11, 10).unwrap_err().contains("warmup_epochs"));
        // A cosine's default length is the epochs after warm-up.
        let filled = check(
            Some(&LrSchedule::Cosine {
                t_max: None,
                eta_min: 0.0,
            }),
            2,
            10,
        )
        .unwrap();
        assert_eq!(
            filled,
            Some(LrSchedule::Cosine {
                t_max: Some(8),
                eta_min: 0.0
            })
        );
    }
}
