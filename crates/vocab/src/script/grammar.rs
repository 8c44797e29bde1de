//! GBNF grammars (llama.cpp's format) that a local model's answer is decoded under: only the
//! letters of the script's alphabet, digits, plain punctuation and whole sentences can be
//! produced, so emoji, markdown, preambles in another script and English tails cannot appear at
//! all. Servers that take a `grammar` field (the local engine, llama.cpp's llama-server) apply it.

use super::words::{alphabet_of, Alphabet};

/// How much text the grammar allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Any number of sentences: a whole script.
    Sentences,
    /// Exactly one sentence.
    Sentence,
    /// A post's words as the JSON object `{title, caption, hashtags}`, each bounded: a short
    /// title, two or three sentences, four to eight one-word hashtags.
    Post,
    /// `{"key_words": [...]}`: one to eight single words.
    KeyWords,
    /// The key words and, per sentence, one to three English stock search terms:
    /// `{"key_words": [...], "broll_keywords": [[...], ...]}`.
    Visuals,
}

/// The grammar for text in `language` of `shape`; none for a language without a known alphabet.
pub fn for_language(language: &str, shape: Shape) -> Option<String> {
    let letters = match alphabet_of(language)? {
        // The ranges the language check counts: Cyrillic with its supplement (і, ї, є, ґ, ...),
        // Latin with its accented and extended letters (ä, ß, ł, ...).
        Alphabet::Cyrillic => "[\u{0400}-\u{052F}0-9]",
        Alphabet::Latin => "[A-Za-z\u{00C0}-\u{024F}0-9]",
    };
    let root = match shape {
        Shape::Sentences => "root ::= sentence (\" \" sentence)*",
        Shape::Sentence => "root ::= sentence",
        Shape::Post => concat!(
            r#"root ::= "{\"title\": \"" title "\", \"caption\": \"" caption "\", \"hashtags\": [" tags "]}""#,
            "\n",
            r#"title ::= word (" " word){1,8}"#,
            "\n",
            r#"caption ::= short (" " short){1,2}"#,
            "\n",
            r#"short ::= word (gap word){2,15} end"#,
            "\n",
            r#"tags ::= tag (", " tag){3,7}"#,
            "\n",
            r#"tag ::= "\"" word "\"""#,
        ),
        Shape::KeyWords => concat!(
            r#"root ::= "{\"key_words\": [" key (", " key){0,7} "]}""#,
            "\n",
            r#"key ::= "\"" word "\"""#,
        ),
        Shape::Visuals => concat!(
            r#"root ::= "{\"key_words\": [" key (", " key){0,7} "], \"broll_keywords\": [" scene (", " scene){0,19} "]}""#,
            "\n",
            r#"key ::= "\"" word "\"""#,
            "\n",
            r#"scene ::= "[" term (", " term){0,2} "]""#,
            "\n",
            r#"term ::= "\"" [a-z]+ (" " [a-z]+)? "\"""#,
        ),
    };
    Some(format!(
        "{root}\n\
         sentence ::= word (gap word){{0,40}} end\n\
         word ::= {letters}+ ([-'] {letters}+)?\n\
         gap ::= \" \" | \", \" | \" - \" | \": \"\n\
         end ::= \".\" | \"!\" | \"?\"\n"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_alphabet_has_its_letters_and_no_other() {
        let russian = for_language("ru", Shape::Sentences).unwrap();
        assert!(russian.contains("[\u{0400}-\u{052F}0-9]") && !russian.contains("A-Z"));
        let english = for_language("en-US", Shape::Sentence).unwrap();
        assert!(
            english.starts_with("root ::= sentence\n")
                && english.contains("[A-Za-z\u{00C0}-\u{024F}0-9]")
        );
        assert_eq!(for_language("ja", Shape::Sentences), None);
        let post = for_language("ru", Shape::Post).unwrap();
        assert!(
            post.starts_with(r#"root ::= "{\"title\": \"" title"#),
            "{post}"
        );
        assert!(post.contains("tags ::= tag (\", \" tag){3,7}"), "{post}");
    }
}
