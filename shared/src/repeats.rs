//! Finding a value given twice (layers named twice, seeds or grid values repeated), so that the
//! error can name both places.

/// The positions `(first, second)` of the first value of `items` that occurs again: `second` is
/// the smallest index whose value appeared before, `first` where it appeared. `None` when all
/// differ (and for an empty slice).
pub fn first_repeat<T: PartialEq>(items: &[T]) -> Option<(usize, usize)> {
    items.iter().enumerate().find_map(|(i, x)| {
        items[..i]
            .iter()
            .position(|y| y == x)
            .map(|first| (first, i))
    })
}

#[cfg(test)]
mod tests {
    use super::first_repeat;

    #[test]
    fn the_first_value_seen_again_with_both_places() {
        assert_eq!(first_repeat::<u32>(&[]), None);
        assert_eq!(first_repeat(&[1, 2, 3]), None);
        // 2 comes back at index 3 before 1 comes back at index 4.
        assert_eq!(first_repeat(&[1, 2, 5, 2, 1]), Some((1, 3)));
        assert_eq!(first_repeat(&["fc", "fc"]), Some((0, 1)));
    }
}
