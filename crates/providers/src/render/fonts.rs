//! How wide a line of subtitle text is drawn, so a box can be drawn around it: the font file is
//! found with fontconfig (as libass finds it) and its advance widths are read.

use std::path::PathBuf;

use crate::process;

/// A font's horizontal metrics, scaled as libass scales them: a font size is the height of the
/// font's Windows ascent plus descent (VSFilter's convention), not of its em square.
pub struct FontMetrics {
    data: Vec<u8>,
}

/// Used when no font file can be read: a little wider than DejaVu Sans' letters on average, so
/// a box drawn from it still holds the text.
const FALLBACK_ADVANCE: f64 = 0.62;

impl FontMetrics {
    /// The file fontconfig picks for `family` (bold or not), if it can be read and parsed.
    pub async fn find(family: &str, bold: bool) -> Option<FontMetrics> {
        let pattern = if bold {
            format!("{family}:bold")
        } else {
            family.to_owned()
        };
        let path = process::run(
            "fc-match",
            ["-f", "%{file}", pattern.as_str()],
            process::TOOL_TIMEOUT,
        )
        .await
        .ok()?;
        Self::read(&PathBuf::from(String::from_utf8(path).ok()?)).await
    }

    /// The metrics of the font file at `path`, if it parses.
    pub async fn read(path: &std::path::Path) -> Option<FontMetrics> {
        let data = tokio::fs::read(path).await.ok()?;
        ttf_parser::Face::parse(&data, 0).ok()?;
        Some(FontMetrics { data })
    }

    /// The width of `text` in pixels at font size `size`.
    pub fn width(&self, text: &str, size: f64) -> f64 {
        let Ok(face) = ttf_parser::Face::parse(&self.data, 0) else {
            return estimated_width(text, size);
        };
        let cell = face
            .tables()
            .os2
            .map(|os2| f64::from(os2.windows_ascender()) - f64::from(os2.windows_descender()))
            .filter(|cell| *cell > 0.0)
            .unwrap_or_else(|| f64::from(face.units_per_em()));
        let units: f64 = text
            .chars()
            .map(|c| {
                face.glyph_index(c)
                    .and_then(|glyph| face.glyph_hor_advance(glyph))
                    .map_or(FALLBACK_ADVANCE * cell, f64::from)
            })
            .sum();
        units * size / cell
    }
}

/// The width of `text` without a font file.
pub fn estimated_width(text: &str, size: f64) -> f64 {
    text.chars().count() as f64 * size * FALLBACK_ADVANCE
}

/// Widths from the font if there is one, else estimated.
pub fn width(font: Option<&FontMetrics>, text: &str, size: f64) -> f64 {
    font.map_or_else(
        || estimated_width(text, size),
        |font| font.width(text, size),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn dejavu_widths_follow_the_letters() {
        let Some(font) = FontMetrics::find("DejaVu Sans", false).await else {
            panic!("DejaVu Sans is installed by scripts/setup (fonts-dejavu-core)");
        };
        let narrow = font.width("iiii", 100.0);
        let wide = font.width("ШШШШ", 100.0);
        assert!(wide > narrow * 2.5, "{narrow} {wide}");
        // DejaVu Sans: "W" advances 2025 of 2048 units; the cell is 1901 + 483 units.
        let w = font.width("W", 2384.0);
        assert!((w - 2025.0).abs() < 1.0, "{w}");
        let bold = FontMetrics::find("DejaVu Sans", true).await.unwrap();
        assert!(bold.width("Вставай", 76.0) > font.width("Вставай", 76.0));
    }
}
