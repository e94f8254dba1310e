//! Chance over simulated time: the scenario's rates are per minute and a step is a fraction
//! of one, so a step asks how likely one event is, or how many happen.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// Keeps the Poisson sampler's loop bounded whatever the rate; far above any per-step mean a
/// sensible scenario produces.
const MAX_EVENTS_MEAN: f64 = 50.0;

/// The chance that an event with `rate_per_minute` happens within `minutes`.
pub(super) fn chance(rate_per_minute: f64, minutes: f64) -> f64 {
    if rate_per_minute > 0.0 {
        1.0 - (-rate_per_minute * minutes).exp()
    } else {
        0.0
    }
}

/// How many events with mean `mean` happen in one step (Knuth's Poisson sampler: fine for the
/// small means of a rate per minute over a fraction of a minute).
pub(super) fn poisson(rng: &mut ChaCha8Rng, mean: f64) -> u32 {
    if mean.is_nan() || mean <= 0.0 {
        return 0;
    }
    let limit = (-mean.min(MAX_EVENTS_MEAN)).exp();
    let mut product: f64 = rng.random();
    let mut count = 0;
    while product > limit {
        count += 1;
        product *= rng.random::<f64>();
    }
    count
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn poisson_has_the_requested_mean_and_chance_grows_with_time() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let total: u32 = (0..10_000).map(|_| poisson(&mut rng, 0.3)).sum();
        assert!((2_700..3_300).contains(&total), "{total}");
        assert_eq!(poisson(&mut rng, 0.0), 0);
        assert!(chance(1.0, 1.0) > chance(1.0, 0.5));
        assert!((chance(1.0, 1.0) - 0.632).abs() < 0.001);
        assert!(chance(0.0, 1.0).abs() < f64::EPSILON);
    }
}
