//! Loops: a small model that has run out of things to say repeats a clause ("вы не сможете" three
//! sentences in a row) with a new opening each time, which the 4-gram repetition check lets
//! through, or says one thought again in other endings ("Язык учится на основе практики. Язык
//! учится при помощи практики."). Caught here: a clause of three words shared with one of the
//! few sentences before, a sentence ending the way an earlier one ended, or a sentence whose
//! words (by their stems) are mostly those of one of the few sentences before.

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

/// Shared stems that make two sentences one thought: three, and two thirds of the shorter one's
/// (a sentence that takes up a phrase of the one before and goes on is not one thought).
const SAME_THOUGHT_STEMS: usize = 3;

/// The distinct stems of a sentence's words that carry meaning ("практике", "практики" and
/// "практику" are one).
fn stems(sentence: &str, language: &str) -> Vec<String> {
    let mut stems = super::grounding::content_stems(sentence, language);
    stems.sort();
    stems.dedup();
    stems
}

/// The words of `sentence` whose stems are among `shared`, each once, as the sentence has them.
fn words_of(sentence: &str, shared: &[String], language: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    for word in normalized_words(sentence) {
        let is_shared = stems(&word, language)
            .first()
            .is_some_and(|stem| shared.contains(stem));
        if is_shared && !found.contains(&word) {
            found.push(word);
        }
    }
    found
}

/// The stems `sentence` shares with `before` when it says the same thought again.
fn same_thought(sentence: &[String], before: &[String]) -> Option<Vec<String>> {
    let shared: Vec<String> = sentence
        .iter()
        .filter(|stem| before.contains(stem))
        .cloned()
        .collect();
    let shorter = sentence.len().min(before.len());
    (shared.len() >= SAME_THOUGHT_STEMS && shared.len() * 3 >= shorter * 2).then_some(shared)
}

/// The clause `sentence` repeats from `earlier` (the sentences before it, in order), if it loops.
pub fn repeated_clause(sentence: &str, earlier: &[String], language: &str) -> Option<String> {
    let own = clauses(sentence);
    let own_stems = stems(sentence, language);
    let recent = earlier.iter().rev().take(WINDOW);
    for before in recent {
        let theirs = clauses(before);
        if let Some(clause) = own.iter().find(|clause| theirs.contains(clause)) {
            return Some(clause.join(" "));
        }
        if let Some(shared) = same_thought(&own_stems, &stems(before, language)) {
            return Some(words_of(sentence, &shared, language).join(", "));
        }
    }
    let ending = own.last()?;
    earlier
        .iter()
        .any(|before| clauses(before).last() == Some(ending))
        .then(|| ending.join(" "))
}

/// The first loop of a whole text: the repeated clause and the sentence (from 1) it repeats in.
pub fn first_loop(text: &str, language: &str) -> Option<(String, usize)> {
    let parts = sentences(text);
    (1..parts.len()).find_map(|i| {
        repeated_clause(&parts[i], &parts[..i], language).map(|clause| (clause, i + 1))
    })
}

/// The `loops` check of a whole script.
pub fn check(text: &str, language: &str) -> Check {
    let found = first_loop(text, language);
    Check {
        name: crate::domain::read_model::CheckName::Loops.to_string(),
        passed: found.is_none(),
        detail: match found {
            Some((clause, sentence)) => {
                format!("sentence {sentence} repeats `{clause}` from a sentence just before it")
            }
            None => format!(
                "no clause or thought repeats within {WINDOW} sentences and no two sentences \
                 end alike"
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
        assert_eq!(first_loop(demo, "ru"), Some(("вы не сможете".into(), 2)));
        let bench = "Я не могаснуться, не откликаясь на сигналы природы. Я не могу было \
            неоткликнуться на сигналы природы.";
        assert_eq!(
            first_loop(bench, "ru"),
            Some(("на сигналы природы".into(), 2))
        );
        assert!(!check(demo, "ru").passed);
        // The same ending far apart.
        let endings = "Вода заряжает на весь день. Пей её утром. Делай зарядку. Планируй утро. \
            Улыбка заряжает на весь день.";
        assert_eq!(first_loop(endings, "ru"), Some(("на весь день".into(), 5)));
        assert!(!check(endings, "ru").passed);
    }

    #[test]
    fn one_thought_said_again_in_other_endings_is_a_loop() {
        // bench/writer's Russian sample of 2026-12-06.
        let bench = "Трудно начать говорить, потому что легко ошибиться. Язык учится \
            постепенно, основываясь на практике. Язык учится с использованием практики. Язык \
            учится при помощи практики.";
        assert_eq!(
            first_loop(bench, "ru"),
            Some(("язык, учится, практики".into(), 3))
        );
        assert!(!check(bench, "ru").passed);
    }

    #[test]
    fn sentences_on_one_topic_are_not_one_thought() {
        let script = "Вставай рано каждое утро. Каждое утро пей стакан воды. Потом сделай \
            короткую зарядку. Короткая зарядка будит тело лучше кофе. Каждый день делай маленький \
            шаг к мечте. Маленький шаг каждый день меняет жизнь. Подпишись и сохрани видео.";
        assert_eq!(first_loop(script, "ru"), None);
    }

    #[test]
    fn plain_writing_does_not_loop() {
        let script = "Ранний подъём меняет день. Стакан воды, короткая зарядка и план дают \
            энергию на весь день. Одна из привычек важнее других. Одна из них - сон. Подпишись.";
        assert_eq!(
            first_loop(script, "ru"),
            None,
            "short function-word clauses are not loops"
        );
        assert!(check(script, "ru").passed);
        let english = "Start your day with a glass of water. Then move for ten minutes. \
            One of the best habits is a plan. Follow for more.";
        assert!(check(english, "en").passed);
    }
}
