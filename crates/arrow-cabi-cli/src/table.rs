//! Plain-text tables: columns padded to their widest cell.

/// How a column's cells line up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Text, padded on the right.
    Left,
    /// Numbers, padded on the left.
    Right,
}

/// Renders `rows` under `headers`, two spaces between columns, no trailing spaces.
pub fn render(headers: &[(&str, Align)], rows: &[Vec<String>]) -> String {
    let header_row: Vec<String> = headers.iter().map(|(h, _)| (*h).to_owned()).collect();
    let all = || std::iter::once(&header_row).chain(rows);
    let widths: Vec<usize> = (0..headers.len())
        .map(|c| all().filter_map(|row| row.get(c)).map(|cell| cell.chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in all() {
        let mut line = String::new();
        for (c, ((_, align), width)) in headers.iter().zip(&widths).enumerate() {
            let cell = row.get(c).map_or("", String::as_str);
            if c > 0 {
                line.push_str("  ");
            }
            let pad = " ".repeat(width.saturating_sub(cell.chars().count()));
            match align {
                Align::Left => line.extend([cell, &pad]),
                Align::Right => line.extend([&pad, cell]),
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// `text` cut to `max` characters, the last one an ellipsis when cut.
pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pads_and_aligns() {
        let rows = vec![vec!["a".to_owned(), "1".to_owned()], vec!["long name".to_owned(), "1234".to_owned()]];
        let text = render(&[("name", Align::Left), ("n", Align::Right)], &rows);
        assert_eq!(text, "name          n\na             1\nlong name  1234\n");
    }

    #[test]
    fn truncates_with_an_ellipsis() {
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abc", 4), "abc");
    }
}
