//! Replay speeds: the range they must be in, and how the command line writes them.

use super::error::{MAX_SPEED, RecordError};

/// Checks a replay speed: above 0 and at most [`MAX_SPEED`].
///
/// # Errors
/// [`RecordError::Speed`] for 0, negatives, NaN, infinity and anything above [`MAX_SPEED`].
pub(crate) fn validate_speed(speed: f64) -> Result<f64, RecordError> {
    if speed.is_finite() && speed > 0.0 && speed <= MAX_SPEED {
        Ok(speed)
    } else {
        Err(RecordError::Speed { speed })
    }
}

/// Parses a replay speed such as `4`, `0.5` or `4x`; made for clap's `value_parser`.
///
/// # Errors
/// Not a number, or out of range (see [`validate_speed`]).
pub fn parse_speed(text: &str) -> Result<f64, String> {
    let trimmed = text.trim();
    let number = trimmed
        .strip_suffix(['x', 'X'])
        .unwrap_or(trimmed)
        .trim_end();
    let speed: f64 = number.parse().map_err(|_| {
        format!(
            "`{text}` is not a number: give the replay speed as a number above 0 and at most \
             {MAX_SPEED}, e.g. 0.5, 1 or 4"
        )
    })?;
    validate_speed(speed).map_err(|err| err.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speeds_parse_with_or_without_an_x_and_must_be_in_range() {
        assert_eq!(parse_speed("4"), Ok(4.0));
        assert_eq!(parse_speed(" 0.5x "), Ok(0.5));
        assert_eq!(parse_speed("1000"), Ok(1000.0));
        for bad in ["0", "-1", "1000.5", "nan", "inf"] {
            let err = parse_speed(bad).unwrap_err();
            assert!(err.contains("above 0 and at most 1000"), "{bad}: {err}");
        }
        let err = parse_speed("fast").unwrap_err();
        assert!(err.contains("`fast` is not a number"), "{err}");
    }
}
