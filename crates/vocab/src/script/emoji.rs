//! Emoji removal. A script is spoken aloud and burned into subtitles, where an emoji is either
//! read out ("smiling face") or drawn as tofu, so every one goes: pictographs, ZWJ sequences,
//! skin tones, flags, keycaps, tags and variation selectors. Letters, digits and punctuation of
//! any script are never touched.

/// `Extended_Pictographic` from Unicode's emoji-data.txt (15.0, via Debian's unicode-data),
/// merged into ranges. The property reserves blocks for future emoji, so newer ones are covered.
const EXTENDED_PICTOGRAPHIC: &[(u32, u32)] = &[
    (0x00A9, 0x00A9),
    (0x00AE, 0x00AE),
    (0x203C, 0x203C),
    (0x2049, 0x2049),
    (0x2122, 0x2122),
    (0x2139, 0x2139),
    (0x2194, 0x2199),
    (0x21A9, 0x21AA),
    (0x231A, 0x231B),
    (0x2328, 0x2328),
    (0x2388, 0x2388),
    (0x23CF, 0x23CF),
    (0x23E9, 0x23F3),
    (0x23F8, 0x23FA),
    (0x24C2, 0x24C2),
    (0x25AA, 0x25AB),
    (0x25B6, 0x25B6),
    (0x25C0, 0x25C0),
    (0x25FB, 0x25FE),
    (0x2600, 0x2605),
    (0x2607, 0x2612),
    (0x2614, 0x2685),
    (0x2690, 0x2705),
    (0x2708, 0x2712),
    (0x2714, 0x2714),
    (0x2716, 0x2716),
    (0x271D, 0x271D),
    (0x2721, 0x2721),
    (0x2728, 0x2728),
    (0x2733, 0x2734),
    (0x2744, 0x2744),
    (0x2747, 0x2747),
    (0x274C, 0x274C),
    (0x274E, 0x274E),
    (0x2753, 0x2755),
    (0x2757, 0x2757),
    (0x2763, 0x2767),
    (0x2795, 0x2797),
    (0x27A1, 0x27A1),
    (0x27B0, 0x27B0),
    (0x27BF, 0x27BF),
    (0x2934, 0x2935),
    (0x2B05, 0x2B07),
    (0x2B1B, 0x2B1C),
    (0x2B50, 0x2B50),
    (0x2B55, 0x2B55),
    (0x3030, 0x3030),
    (0x303D, 0x303D),
    (0x3297, 0x3297),
    (0x3299, 0x3299),
    (0x1F000, 0x1F0FF),
    (0x1F10D, 0x1F10F),
    (0x1F12F, 0x1F12F),
    (0x1F16C, 0x1F171),
    (0x1F17E, 0x1F17F),
    (0x1F18E, 0x1F18E),
    (0x1F191, 0x1F19A),
    (0x1F1AD, 0x1F1E5),
    (0x1F201, 0x1F20F),
    (0x1F21A, 0x1F21A),
    (0x1F22F, 0x1F22F),
    (0x1F232, 0x1F23A),
    (0x1F23C, 0x1F23F),
    (0x1F249, 0x1F3FA),
    (0x1F400, 0x1F53D),
    (0x1F546, 0x1F64F),
    (0x1F680, 0x1F6FF),
    (0x1F774, 0x1F77F),
    (0x1F7D5, 0x1F7FF),
    (0x1F80C, 0x1F80F),
    (0x1F848, 0x1F84F),
    (0x1F85A, 0x1F85F),
    (0x1F888, 0x1F88F),
    (0x1F8AE, 0x1F8FF),
    (0x1F90C, 0x1F93A),
    (0x1F93C, 0x1F945),
    (0x1F947, 0x1FAFF),
    (0x1FC00, 0x1FFFD),
];

const ZWJ: char = '\u{200D}';
const KEYCAP: char = '\u{20E3}';

fn is_pictographic(c: char) -> bool {
    let code = c as u32;
    EXTENDED_PICTOGRAPHIC
        .binary_search_by(|&(start, end)| {
            if end < code {
                std::cmp::Ordering::Less
            } else if start > code {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

/// Characters that only ever belong to emoji: pictographs, regional indicators (flags), skin
/// tones, tags (subdivision flags), the keycap mark and variation selectors.
fn is_emoji_part(c: char) -> bool {
    matches!(c as u32,
        0x1F1E6..=0x1F1FF | 0x1F3FB..=0x1F3FF | 0xE0020..=0xE007F | 0x20E3 | 0xFE0E | 0xFE0F)
        || is_pictographic(c)
}

/// Removes every emoji; answers the text and how many characters went. Spaces left doubled
/// where an emoji stood between words are closed up; text without emoji comes back unchanged.
pub fn strip_emoji(text: &str) -> (String, usize) {
    let chars: Vec<char> = text.chars().collect();
    let mut kept = String::with_capacity(text.len());
    let mut removed = 0;
    let mut i = 0;
    let mut last_removed = false;
    while i < chars.len() {
        let c = chars[i];
        // Keycaps: `1`, `#` or `*`, maybe VS16, then U+20E3; the base goes with the mark.
        let keycap_len = match (chars.get(i + 1), chars.get(i + 2)) {
            (Some(&KEYCAP), _) => 2,
            (Some('\u{FE0F}'), Some(&KEYCAP)) => 3,
            _ => 0,
        };
        if keycap_len > 0 && (c.is_ascii_digit() || c == '#' || c == '*') {
            removed += keycap_len;
            i += keycap_len;
            last_removed = true;
            continue;
        }
        let joins_emoji =
            c == ZWJ && (last_removed || chars.get(i + 1).copied().is_some_and(is_emoji_part));
        if is_emoji_part(c) || joins_emoji {
            removed += 1;
            last_removed = true;
        } else {
            if last_removed && c.is_whitespace() && ends_with_space_or_empty(&kept) {
                i += 1;
                continue;
            }
            last_removed = false;
            kept.push(c);
        }
        i += 1;
    }
    if removed == 0 {
        return (text.to_owned(), 0);
    }
    let tidy: Vec<&str> = kept.lines().map(str::trim_end).collect();
    (tidy.join("\n").trim().to_owned(), removed)
}

fn ends_with_space_or_empty(text: &str) -> bool {
    text.chars().last().is_none_or(char::is_whitespace)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emoji_of_every_kind_go_and_text_stays() {
        let cases = [
            ("Вперёд 🚀 к цели!", "Вперёд к цели!"),
            ("Go 👍🏽 now", "Go now"),
            ("Family 👨‍👩‍👧‍👦 time", "Family time"),
            ("Flags 🇷🇺🇺🇸 here", "Flags here"),
            ("Keycap 1️⃣ and #️⃣ and 7⃣ done", "Keycap and and done"),
            ("Heart ❤️ and ❤ and ☺︎", "Heart and and"),
            (
                "Scotland 🏴\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}!",
                "Scotland !",
            ),
            ("🔥Огонь🔥", "Огонь"),
        ];
        for (input, expected) in cases {
            assert_eq!(strip_emoji(input).0, expected, "{input}");
        }
    }

    /// Every sequence of Unicode's emoji-test.txt (Debian's unicode-data; scripts/test installs
    /// it): fully, minimally and un-qualified, components included.
    #[test]
    fn every_sequence_of_the_unicode_emoji_test_file_goes() {
        let path = std::env::var("REELFORGE_EMOJI_TEST")
            .unwrap_or_else(|_| "/usr/share/unicode/emoji/emoji-test.txt".into());
        let corpus = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{path}: {e} (apt-get install unicode-data)"));
        let mut sequences = 0;
        for line in corpus
            .lines()
            .filter(|l| !l.starts_with('#') && l.contains(';'))
        {
            let codes = line.split(';').next().unwrap();
            let emoji: String = codes
                .split_whitespace()
                .map(|hex| char::from_u32(u32::from_str_radix(hex, 16).unwrap()).unwrap())
                .collect();
            assert_eq!(strip_emoji(&emoji).0, "", "{line}");
            let framed = format!("Привет, {emoji} world{emoji}! 42{emoji}");
            assert_eq!(strip_emoji(&framed).0, "Привет, world! 42", "{line}");
            sequences += 1;
        }
        assert!(
            sequences > 4000,
            "only {sequences} sequences read from {path}"
        );
    }

    #[test]
    fn plain_text_is_untouched_byte_for_byte() {
        let text = "Привет, мир! Ёжик — 100% «кто-то» 3-4 раза... Hello: it's 9:30 (#1), a*b = 2; \
                    “quotes” — dash – en‑dash; ¿Qué? Ünïcödé ß ﬁ 1/2 № 5 € $ @ & ~ ^ _ | \\ / <> {}";
        assert_eq!(strip_emoji(text), (text.to_owned(), 0));
    }
}
