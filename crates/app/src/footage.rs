//! Stock B-roll for a render. For each shot, the English search words of its sentence are looked
//! up in a stock library: answers are cached in the database for 24 hours, as Pexels' and
//! Pixabay's terms ask; a clip of the frame's shape not used yet is picked; its file is kept in
//! the media store, so a later render does not download it again. Every clip used is credited to
//! its author. A library that fails or is rate-limited for long costs the stock footage, never
//! the render: the caller falls back to the library or the generated background.

use std::{collections::HashSet, time::Duration};

use chrono::Utc;
use sqlx::PgPool;

use crate::{
    db,
    media::{MediaError, MediaStore},
    providers::{
        fetch,
        render::broll::Clip,
        stock::{Orientation, StockClip, StockFile, StockLibraries, StockLibrary},
        ProviderError,
    },
};

pub use reelforge_vocab::domain::output::Credit;

/// The credit lines of a video's clips, each once, with each library's own line after its
/// clips' ("Videos provided by Pexels", as Pexels asks).
pub fn credit_lines(credits: &[Credit]) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for credit in credits {
        if !lines.contains(&credit.text) {
            lines.push(credit.text.clone());
        }
    }
    if credits
        .iter()
        .any(|credit| credit.library == crate::providers::stock::pexels::NAME)
    {
        lines.push("Videos provided by Pexels (https://www.pexels.com)".to_owned());
    }
    lines
}

/// How long a search's answer is used before it is asked again.
const CACHE_HOURS: i64 = 24;
/// A library that asks to wait this long or less is waited for once; a longer wait ends the
/// library's part in the render (cached answers are still used).
const LONGEST_WAIT: Duration = Duration::from_secs(5);
/// The wait before asking again after a failure that named none (a timeout, a 5xx).
const RETRY_WAIT: Duration = Duration::from_secs(1);
/// Searches one shot may spend: all its words together, then each alone.
const SEARCHES_PER_SHOT: usize = 3;
/// A stock file no render has used for this long is deleted from the media store.
const FILE_DAYS: i64 = 30;
/// Files deleted per render at most, so a large backlog does not hold one up.
const FILES_SWEPT_PER_RENDER: i64 = 50;
/// Files one shot may try to download before it takes another shot's clip.
const DOWNLOADS_PER_SHOT: usize = 3;

/// What to look for.
pub struct StockRequest<'a> {
    /// The search words of each shot, in order (empty: reuse another shot's clip).
    pub shots: &'a [Vec<String>],
    pub orientation: Orientation,
    /// The frame's width and height, which a file should fill without enlarging.
    pub frame: (u32, u32),
}

/// A clip for every shot (none at all when nothing was found), their credits, and why the
/// library stopped answering, if it did.
#[derive(Debug, Default)]
pub struct StockBroll {
    pub clips: Vec<Clip>,
    pub credits: Vec<Credit>,
    pub note: Option<String>,
}

/// Only the database can fail a search for stock footage; the library and the files cost the
/// clips they concern.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct FootageError(#[from] pub sqlx::Error);

/// The searches for one shot's words: all of them, then each alone.
fn queries(words: &[String]) -> Vec<String> {
    let mut queries: Vec<String> = Vec::new();
    let all = words.join(" ");
    for query in std::iter::once(all).chain(words.iter().cloned()) {
        let query = query.trim().to_lowercase();
        if !query.is_empty() && !queries.contains(&query) {
            queries.push(query);
        }
    }
    queries.truncate(SEARCHES_PER_SHOT);
    queries
}

pub struct StockSearch<'a> {
    pub pool: &'a PgPool,
    pub media: &'a MediaStore,
    pub stock: &'a StockLibraries,
    pub library: &'a dyn StockLibrary,
}

impl StockSearch<'_> {
    /// The clips found for `request`'s shots.
    pub async fn find(&self, request: &StockRequest<'_>) -> Result<StockBroll, FootageError> {
        let now = Utc::now();
        db::stock::forget_before(self.pool, now - chrono::Duration::hours(CACHE_HOURS)).await?;
        self.sweep_files(now - chrono::Duration::days(FILE_DAYS))
            .await?;
        let mut used: HashSet<String> = HashSet::new();
        let mut chosen: Vec<Option<(Clip, Credit)>> = Vec::new();
        let mut stopped: Option<String> = None;
        for words in request.shots {
            let mut found = None;
            for query in queries(words) {
                // Once the library has failed, only its cached answers are used.
                let clips = match self
                    .search(&query, request.orientation, stopped.is_none())
                    .await?
                {
                    Some(Ok(clips)) => clips,
                    Some(Err(error)) => {
                        stopped = Some(format!("{}: {error}", self.library.name()));
                        continue;
                    }
                    None => continue,
                };
                found = self.first_usable(&clips, request, &mut used).await?;
                if found.is_some() {
                    break;
                }
            }
            chosen.push(found);
        }
        let found: Vec<&(Clip, Credit)> = chosen.iter().flatten().collect();
        if found.is_empty() {
            return Ok(StockBroll {
                note: Some(stopped.unwrap_or_else(|| {
                    format!(
                        "{} had no clip for the script's search words",
                        self.library.name()
                    )
                })),
                ..StockBroll::default()
            });
        }
        // A shot without its own clip takes the found ones in turn.
        let mut spare = found.iter().map(|(clip, _)| clip).cycle();
        let clips = chosen
            .iter()
            .filter_map(|pick| match pick {
                Some((clip, _)) => Some(clip.clone()),
                None => spare.next().cloned(),
            })
            .collect();
        Ok(StockBroll {
            clips,
            credits: found.iter().map(|(_, credit)| credit.clone()).collect(),
            note: stopped,
        })
    }

    /// Deletes stock files no render has used since `before`.
    async fn sweep_files(&self, before: chrono::DateTime<Utc>) -> Result<(), FootageError> {
        for key in db::stock::unused_files(self.pool, before, FILES_SWEPT_PER_RENDER).await? {
            // The row goes first: a render that marks the file used meanwhile keeps it.
            if db::stock::forget_file(self.pool, &key, before).await? {
                if let Err(error) = self.media.remove(&key).await {
                    tracing::warn!(%error, %key, "an unused stock file could not be deleted");
                }
            }
        }
        Ok(())
    }

    /// The cached answer of the last day, else (when `ask` allows) the library's, cached. A
    /// retryable failure is asked again once after a short wait; none when nothing was asked.
    async fn search(
        &self,
        query: &str,
        orientation: Orientation,
        ask: bool,
    ) -> Result<Option<Result<Vec<StockClip>, ProviderError>>, FootageError> {
        let name = self.library.name();
        let since = Utc::now() - chrono::Duration::hours(CACHE_HOURS);
        if let Some(clips) = db::stock::cached(self.pool, name, query, orientation, since).await? {
            return Ok(Some(Ok(clips)));
        }
        if !ask {
            return Ok(None);
        }
        let mut answer = self.library.search(query, orientation).await;
        if let Err(ProviderError::Retryable { retry_after, .. }) = &answer {
            let wait = retry_after.unwrap_or(RETRY_WAIT);
            if wait <= LONGEST_WAIT {
                tokio::time::sleep(wait).await;
                answer = self.library.search(query, orientation).await;
            }
        }
        if let Ok(clips) = &answer {
            db::stock::save(self.pool, name, query, orientation, clips, Utc::now()).await?;
        }
        Ok(Some(answer))
    }

    /// The first clip of `clips` not used yet whose file can be had: files that fill the frame
    /// without enlarging first, then those of the frame's shape, each in the library's order.
    async fn first_usable(
        &self,
        clips: &[StockClip],
        request: &StockRequest<'_>,
        used: &mut HashSet<String>,
    ) -> Result<Option<(Clip, Credit)>, FootageError> {
        let mut candidates: Vec<(&StockClip, &StockFile)> = clips
            .iter()
            .filter(|clip| !used.contains(&clip.id))
            .filter_map(|clip| Some((clip, clip.best_file(request.frame)?)))
            .collect();
        candidates.sort_by_key(|(_, file)| {
            (
                file.enlargement(request.frame) > 1.0,
                !request.orientation.fits(file.width, file.height),
            )
        });
        for (clip, file) in candidates.into_iter().take(DOWNLOADS_PER_SHOT) {
            let key = format!(
                "stock/{}/{}-{}x{}.mp4",
                self.library.name(),
                clip.id,
                file.width,
                file.height
            );
            // Marked before it is read, so a sweep meanwhile leaves it.
            db::stock::file_used(self.pool, &key, Utc::now()).await?;
            let fetched = match self.media.fetch(&key).await {
                Err(MediaError::Missing(_)) => self.download(&file.url, &key).await,
                other => other.map_err(|error| error.to_string()),
            };
            let path = match fetched {
                Ok(path) => path,
                Err(error) => {
                    tracing::warn!(%error, clip = %clip.id, "a stock clip could not be had");
                    continue;
                }
            };
            used.insert(clip.id.clone());
            let credit = Credit {
                library: self.library.name().to_owned(),
                clip_id: clip.id.clone(),
                author: clip.author.clone(),
                author_url: clip.author_url.clone(),
                page_url: clip.page_url.clone(),
                text: self.library.credit(clip),
            };
            return Ok(Some((Clip { path, still: false }, credit)));
        }
        Ok(None)
    }

    /// Downloads a clip's file into the media store. A failed upload to a shared store leaves
    /// the local copy, which is all this render needs.
    async fn download(&self, url: &str, key: &str) -> Result<std::path::PathBuf, String> {
        let scratch = self
            .media
            .scratch("mp4")
            .await
            .map_err(|error| error.to_string())?;
        let accept = |content_type: Option<&str>| match content_type {
            Some(kind) if !(kind.starts_with("video/") || kind == "application/octet-stream") => {
                Err(ProviderError::retryable(format!(
                    "the file is {kind}, not a video"
                )))
            }
            _ => Ok(()),
        };
        let downloaded =
            fetch::download(&self.stock.guard, url, &scratch, &self.stock.limits, accept).await;
        if let Err(error) = downloaded {
            let _ = tokio::fs::remove_file(&scratch).await;
            return Err(error.to_string());
        }
        if let Err(error) = self.media.put(key, &scratch).await {
            tracing::warn!(%error, "a stock clip was not kept in the shared store");
        }
        let _ = tokio::fs::remove_file(&scratch).await;
        let path = self.media.path(key).map_err(|error| error.to_string())?;
        if tokio::fs::try_exists(&path).await.unwrap_or(false) {
            Ok(path)
        } else {
            Err("the downloaded file could not be kept".to_owned())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shot_searches_its_words_together_then_alone() {
        let words = |list: &[&str]| list.iter().map(|w| w.to_string()).collect::<Vec<_>>();
        assert_eq!(
            queries(&words(&["Sunrise", "city run", "coffee"])),
            ["sunrise city run coffee", "sunrise", "city run"]
        );
        assert_eq!(queries(&words(&["ocean"])), ["ocean"]);
        assert!(queries(&[]).is_empty());
    }
}
