//! Loops: a small model that has run out of things to say repeats a clause ("вы не сможете" three
//! sentences in a row) with a new opening each time, which the 4-gram repetition check lets
//! through. Caught here: a clause of three words shared with one of the few sentences before,
//! or a sentence ending the way an earlier one ended.

use super::{words::normalized_words, words::sentences, Check};

/// How many sentences back a shared clause counts as a loop; further apart it is a refrain.
const WINDOW: usize = 3;
/// Words in a clause.
const CLAUSE: usize = 3;

/// A clause worth comparing: one with a word of four letters or more, so that "one of the"
/// or "и я не" do not count.
fn clauses(sentence: &str) -> Vec<Vec<String>> {
    normalized_words(sentence)
        .windows(CLAUSE)
        .filter(|clause| clause.iter().any(|word| word.chars().count() >= 4))
        .map(<[String]>::to_vec)
        .collect()
}

/// The clause `sentence` repeats from `earlier` (the sentences before it, in order), if it loops.
pub fn repeated_clause(sentence: &str, earlier: &[String]) -> Option<String> {
    let own = clauses(sentence);
    let recent = earlier.iter().rev().take(WINDOW);
    for before in recent {
        let theirs = clauses(before);
        if let Some(clause) = own.iter().find(|clause| theirs.contains(clause)) {
            return Some(clause.join(" "));
        }
    }
    let ending = own.last()?;
    earlier
        .iter()
        .any(|before| clauses(before).last() == Some(ending))
        .then(|| ending.join(" "))
}

/// The first loop of a whole text: the repeated clause and the sentence (from 1) it repeats in.
pub fn first_loop(text: &str) -> Option<(String, usize)> {
    let parts = sentences(text);
    (1..parts.len()).find_map(|i| repeated_clause(&parts[i], &parts[..i]).map(|c| (c, i + 1)))
}

/// The `loops` check of a whole script.
pub fn check(text: &str) -> Check {
    let found = first_loop(text);
    Check {
        name: crate::domain::read_model::CheckName::Loops.to_string(),
        passed: found.is_none(),
        detail: match found {
            Some((clause, sentence)) => {
                format!("sentence {sentence} repeats `{clause}` from a sentence just before it")
            }
            None => format!(
                "no clause repeats within {WINDOW} sentences and no two sentences end alike"
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clause_said_again_and_again_is_a_loop() {
        let demo = "Если вы не имеете материалов, вы не сможете выполнять свою цель. Нет, вы не \
            сможете. Скорее всего, вы не сможете. Мне кажется, вы не сможете.";
        assert_eq!(first_loop(demo), Some(("вы не сможете".into(), 2)));
        let bench = "Я не могаснуться, не откликаясь на сигналы природы. Я не могу было \
            неоткликнуться на сигналы природы.";
        assert_eq!(first_loop(bench), Some(("на сигналы природы".into(), 2)));
        assert!(!check(demo).passed);
        // The same ending far apart.
        let endings = "Вода заряжает на весь день. Пей её утром. Делай зарядку. Планируй утро. \
            Улыбка заряжает на весь день.";
        assert_eq!(first_loop(endings), Some(("на весь день".into(), 5)));
        assert!(!check(endings).passed);
    }

    #[test]
    fn plain_writing_does_not_loop() {
        let script = "Ранний подъём меняет день. Стакан воды, короткая зарядка и план дают \
            энергию на весь день. Одна из привычек важнее других. Одна из них - сон. Подпишись.";
        assert_eq!(
            first_loop(script),
            None,
            "short function-word clauses are not loops"
        );
        assert!(check(script).passed);
        let english = "Start your day with a glass of water. Then move for ten minutes. \
            One of the best habits is a plan. Follow for more.";
        assert!(check(english).passed);
    }
}
