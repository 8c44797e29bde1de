//! The project voice library: voices cloned with ElevenLabs from recordings in the project's
//! media library. The provider is called while the request waits (a clone takes seconds); a
//! retried request with the same `Idempotency-Key` gets the first answer, not a second voice.

use uuid::Uuid;

use crate::{
    assets,
    collections::storage_error,
    db,
    domain::{
        asset::AssetKind,
        cloned_voice::{ClonedVoice, NewVoice, VoicePatch, MAX_SAMPLE_BYTES},
        options::LibraryKey,
        project::FieldError,
    },
    error::AppError,
    error_code::ErrorCode,
    media::MediaError,
    pagination::{Page, PageQuery},
    providers::voice::elevenlabs::{self, VoiceClone},
    state::AppState,
};

fn cloning(state: &AppState) -> Result<&elevenlabs::ElevenLabs, AppError> {
    state.providers.cloning.as_deref().ok_or_else(|| {
        AppError::unprocessable(
            ErrorCode::NotConfigured,
            "voice cloning needs ElevenLabs: set REELFORGE__PROVIDERS__ELEVENLABS__API_KEY",
        )
    })
}

pub async fn create(
    state: &AppState,
    project_id: Uuid,
    new: NewVoice,
) -> Result<ClonedVoice, AppError> {
    crate::projects::require(state, project_id).await?;
    let mut problems = new.problems();
    if problems.is_empty() {
        problems = sample_problems(state, project_id, &new.sample_keys).await?;
    }
    if !problems.is_empty() {
        return Err(AppError::Validation(problems));
    }
    cloning(state)?;
    // Run to the end even if the client goes away: a voice ElevenLabs made is either kept here
    // or deleted there, never left behind.
    let state = state.clone();
    tokio::spawn(async move { clone_and_keep(&state, project_id, new).await })
        .await
        .map_err(|error| AppError::Internal(error.into()))?
}

/// The samples must be library audio, in all at most `MAX_SAMPLE_BYTES`.
async fn sample_problems(
    state: &AppState,
    project_id: Uuid,
    keys: &[String],
) -> Result<Vec<FieldError>, AppError> {
    let needs: Vec<LibraryKey> = keys
        .iter()
        .enumerate()
        .map(|(index, key)| LibraryKey {
            field: format!("sample_keys[{index}]"),
            key: Some(key.clone()),
            kinds: &[AssetKind::Audio],
        })
        .collect();
    let mut problems = assets::library_problems(&state.pool, project_id, "body", &needs).await?;
    for problem in &mut problems {
        problem.field = problem.field.trim_start_matches("body.").to_owned();
    }
    let bytes: u64 = db::assets::by_keys(&state.pool, project_id, keys)
        .await?
        .iter()
        .map(|asset| asset.size_bytes)
        .sum();
    if problems.is_empty() && bytes > MAX_SAMPLE_BYTES {
        problems.push(FieldError::new(
            "sample_keys",
            format!("the recordings come to {bytes} bytes; at most {MAX_SAMPLE_BYTES} in all"),
        ));
    }
    Ok(problems)
}

async fn clone_and_keep(
    state: &AppState,
    project_id: Uuid,
    new: NewVoice,
) -> Result<ClonedVoice, AppError> {
    let client = cloning(state)?;
    let mut files = Vec::with_capacity(new.sample_keys.len());
    for (index, key) in new.sample_keys.iter().enumerate() {
        let path = state.media.fetch(key).await.map_err(|error| match error {
            MediaError::Missing(_) => AppError::Validation(vec![FieldError::new(
                format!("sample_keys[{index}]"),
                "the recording was deleted meanwhile",
            )]),
            other => storage_error(other),
        })?;
        let bytes = tokio::fs::read(&path)
            .await
            .map_err(|error| storage_error(error.into()))?;
        let name = key.rsplit('/').next().unwrap_or("sample").to_owned();
        files.push((name, bytes));
    }
    let cloned = client
        .clone_voice(VoiceClone {
            name: new.name.trim().to_owned(),
            description: new.description.clone(),
            labels: new.labels.clone(),
            remove_background_noise: new.remove_background_noise,
            samples: files,
        })
        .await
        .map_err(AppError::Upstream)?;
    let voice = ClonedVoice {
        id: Uuid::new_v4(),
        project_id,
        name: new.name.trim().to_owned(),
        provider: elevenlabs::NAME.to_owned(),
        provider_voice_id: cloned.voice_id,
        sample_keys: new.sample_keys,
        description: new.description,
        requires_verification: cloned.requires_verification,
        default: false,
        created_at: chrono::Utc::now(),
    };
    let stored = async {
        let mut tx = state.pool.begin().await?;
        db::projects::lock(&mut *tx, project_id).await?;
        let mut stored = db::voices::insert(&mut *tx, &voice)
            .await
            .map_err(crate::projects::gone_or)?;
        // A voice waiting for verification cannot speak yet, so it is not made the default.
        if new.default && !voice.requires_verification {
            stored = db::voices::set_default(&mut tx, stored.id, true)
                .await?
                .unwrap_or(stored);
        }
        tx.commit().await?;
        Ok::<_, AppError>(stored)
    }
    .await;
    if stored.is_err() {
        // Not kept here: free the provider's slot rather than leave an orphan voice there.
        if let Err(error) = client.delete_voice(&voice.provider_voice_id).await {
            tracing::warn!(%error, provider_voice_id = %voice.provider_voice_id, "a cloned voice not kept here stays at ElevenLabs");
        }
    }
    stored
}

pub async fn list(
    state: &AppState,
    project_id: Uuid,
    query: &PageQuery,
) -> Result<Page<ClonedVoice>, AppError> {
    let page = query.parse()?;
    crate::projects::require(state, project_id).await?;
    let rows = db::voices::list(&state.pool, project_id, page).await?;
    Ok(Page::from_rows(rows, page.limit))
}

pub async fn get(state: &AppState, id: Uuid) -> Result<ClonedVoice, AppError> {
    db::voices::get(&state.pool, id)
        .await?
        .ok_or(AppError::NotFound("voice"))
}

pub async fn update(
    state: &AppState,
    id: Uuid,
    patch: VoicePatch,
) -> Result<ClonedVoice, AppError> {
    let voice = get(state, id).await?;
    let mut tx = state.pool.begin().await?;
    db::projects::lock(&mut *tx, voice.project_id).await?;
    let updated = db::voices::set_default(&mut tx, id, patch.default)
        .await?
        .ok_or(AppError::NotFound("voice"))?;
    tx.commit().await?;
    Ok(updated)
}

/// Deletes the voice at the provider, then here.
pub async fn delete(state: &AppState, id: Uuid) -> Result<(), AppError> {
    let voice = get(state, id).await?;
    cloning(state)?
        .delete_voice(&voice.provider_voice_id)
        .await
        .map_err(AppError::Upstream)?;
    db::voices::delete(&state.pool, id).await?;
    Ok(())
}

/// The provider voice the `elevenlabs` voice step speaks with when its options name none.
pub async fn default_voice_id(
    db: &sqlx::PgPool,
    project_id: Uuid,
) -> Result<Option<String>, sqlx::Error> {
    Ok(db::voices::default_for(db, project_id)
        .await?
        .map(|voice| voice.provider_voice_id))
}
