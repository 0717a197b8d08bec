//! Logical-type arithmetic with no Python in it: decimal text -> unscaled magnitude in 32-bit
//! limbs, checked against the schema's precision and scale, two's complement of that
//! magnitude, and UUID text. The encoder (`py/encoder_logical.rs`) reads the Python objects
//! and hands the text here.

use crate::error::{Error, Result};

/// `str(Decimal)` at `scale` -> (negative, unscaled magnitude as little-endian u32 limbs),
/// refusing NaN and infinities, values whose digits exceed `precision` and values with more
/// fractional digits than `scale`.
pub fn decimal_unscaled(text: &str, precision: u32, scale: u32) -> Result<(bool, Vec<u32>)> {
    let Some((negative, digits, exponent)) = parse_decimal_text(text) else {
        return Err(Error::encode("NaN and infinite decimals cannot be encoded"));
    };
    if digits.len() as u64 > u64::from(precision) {
        return Err(Error::encode(format!(
            "decimal has {} digits, more than the schema's precision {precision}",
            digits.len()
        )));
    }
    let delta = exponent + i64::from(scale);
    if delta < 0 {
        return Err(Error::encode(format!(
            "decimal has more fractional digits than the schema's scale {scale}"
        )));
    }
    let significant = digits.iter().skip_while(|d| **d == 0).count() as i64;
    if significant > 0 && significant + delta > i64::from(precision) {
        return Err(Error::encode(format!(
            "decimal needs {} digits at scale {scale}, more than the schema's precision {precision}",
            significant + delta
        )));
    }
    let mut limbs: Vec<u32> = Vec::new();
    let zeros = if significant > 0 {
        delta.max(0) as usize
    } else {
        0
    };
    for d in digits
        .iter()
        .copied()
        .chain(std::iter::repeat_n(0u8, zeros))
    {
        mul_add(&mut limbs, 10, u32::from(d));
    }
    Ok((negative, limbs))
}

/// `str(Decimal)` -> (negative, coefficient digits as `as_tuple()` gives them, exponent);
/// None for NaN and infinities.
pub fn parse_decimal_text(text: &str) -> Option<(bool, Vec<u8>, i64)> {
    let (negative, rest) = match text.as_bytes().first() {
        Some(b'-') => (true, text.get(1..)?),
        Some(b'+') => (false, text.get(1..)?),
        _ => (false, text),
    };
    let (mantissa, exp) = match rest.find(['E', 'e']) {
        Some(i) => (rest.get(..i)?, rest.get(i + 1..)?.parse::<i64>().ok()?),
        None => (rest, 0),
    };
    let mut digits = Vec::with_capacity(mantissa.len());
    let mut fraction = 0i64;
    let mut seen_point = false;
    for c in mantissa.bytes() {
        match c {
            b'0'..=b'9' => {
                digits.push(c - b'0');
                if seen_point {
                    fraction += 1;
                }
            }
            b'.' if !seen_point => seen_point = true,
            _ => return None,
        }
    }
    if digits.is_empty() {
        return None;
    }
    let leading = digits
        .iter()
        .take_while(|d| **d == 0)
        .count()
        .min(digits.len() - 1);
    digits.drain(..leading);
    Some((negative, digits, exp.checked_sub(fraction)?))
}

/// A UUID's 128 bits as its canonical lower-case hyphenated text.
pub fn format_uuid(v: u128) -> String {
    let hex = format!("{v:032x}");
    let part = |a: usize, b: usize| hex.get(a..b).unwrap_or_default();
    format!(
        "{}-{}-{}-{}-{}",
        part(0, 8),
        part(8, 12),
        part(12, 16),
        part(16, 20),
        part(20, 32)
    )
}

/// `limbs = limbs * mul + add` (little-endian u32 limbs, growing as needed).
pub fn mul_add(limbs: &mut Vec<u32>, mul: u32, add: u32) {
    let mut carry = u64::from(add);
    for limb in limbs.iter_mut() {
        let v = u64::from(*limb) * u64::from(mul) + carry;
        *limb = v as u32;
        carry = v >> 32;
    }
    if carry > 0 {
        limbs.push(carry as u32);
    }
}

/// The number of significant bits of the magnitude (0 for zero).
pub fn bit_length(limbs: &[u32]) -> usize {
    for (i, limb) in limbs.iter().enumerate().rev() {
        if *limb != 0 {
            return i * 32 + (32 - limb.leading_zeros() as usize);
        }
    }
    0
}

/// Big-endian two's complement of ±magnitude in exactly `len` bytes.
pub fn twos_complement(limbs: &[u32], negative: bool, len: usize) -> Vec<u8> {
    let mut le: Vec<u8> = limbs.iter().flat_map(|l| l.to_le_bytes()).collect();
    le.resize(len.max(le.len()), 0);
    le.truncate(len);
    let is_zero = le.iter().all(|b| *b == 0);
    if negative && !is_zero {
        let mut carry = 1u16;
        for b in le.iter_mut() {
            let v = u16::from(!*b) + carry;
            *b = v as u8;
            carry = v >> 8;
        }
    }
    le.reverse();
    le
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unscaled(text: &str, precision: u32, scale: u32) -> Option<(bool, u128)> {
        let (negative, limbs) = decimal_unscaled(text, precision, scale).ok()?;
        let value = limbs
            .iter()
            .rev()
            .fold(0u128, |acc, limb| (acc << 32) | u128::from(*limb));
        Some((negative, value))
    }

    #[test]
    fn decimal_text_is_scaled_to_the_schema() {
        assert_eq!(unscaled("1.5", 10, 2), Some((false, 150)));
        assert_eq!(unscaled("-0.01", 10, 2), Some((true, 1)));
        assert_eq!(unscaled("1E+3", 10, 0), Some((false, 1000)));
        assert_eq!(unscaled("0.000", 3, 3), Some((false, 0)));
        assert_eq!(unscaled("0E-10", 1, 10), Some((false, 0)));
        assert_eq!(unscaled("0E-10", 1, 0), None); // an exponent finer than the scale
        // 38 digits: more than one u64, several limbs.
        let big = "12345678901234567890123456789012345678";
        assert_eq!(
            unscaled(big, 38, 0),
            big.parse::<u128>().ok().map(|v| (false, v))
        );
    }

    #[test]
    fn decimals_that_do_not_fit_are_refused() {
        for (text, precision, scale) in [
            ("NaN", 10, 2),
            ("-Infinity", 10, 2),
            ("123", 2, 0),    // too many digits
            ("1.234", 10, 2), // finer than the scale
            ("99.5", 3, 2),   // 3 digits become 4 at scale 2
            ("1.2.3", 10, 2), // not a number
            ("", 10, 2),
        ] {
            assert!(decimal_unscaled(text, precision, scale).is_err(), "{text}");
        }
    }

    #[test]
    fn twos_complement_has_the_asked_length() {
        assert_eq!(twos_complement(&[1], true, 2), vec![0xff, 0xff]);
        assert_eq!(twos_complement(&[0x80], false, 2), vec![0x00, 0x80]);
        assert_eq!(twos_complement(&[0x80], true, 1), vec![0x80]);
        assert_eq!(twos_complement(&[], true, 1), vec![0x00]); // -0 is 0
        assert_eq!(
            twos_complement(&[0x0102_0304, 0x05], false, 5),
            vec![5, 1, 2, 3, 4]
        );
    }

    #[test]
    fn bit_length_and_mul_add_agree_with_u128() {
        let mut limbs = Vec::new();
        let mut expected = 0u128;
        for digit in [
            9u32, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1,
        ] {
            mul_add(&mut limbs, 10, digit);
            expected = expected * 10 + u128::from(digit);
            assert_eq!(bit_length(&limbs), 128 - expected.leading_zeros() as usize);
        }
        assert_eq!(bit_length(&[]), 0);
        assert_eq!(bit_length(&[0, 0]), 0);
    }

    #[test]
    fn uuid_text_is_canonical() {
        assert_eq!(
            format_uuid(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef),
            "01234567-89ab-cdef-0123-456789abcdef"
        );
        assert_eq!(format_uuid(0), "00000000-0000-0000-0000-000000000000");
    }
}
