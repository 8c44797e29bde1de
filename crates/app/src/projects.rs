//! Projects: creating one from a request (defaults, `auto` providers settled, every field
//! checked) and listing them; shared by the REST routes and the MCP tools.

use uuid::Uuid;

use crate::{
    db,
    domain::project::{
        validate_language, validate_name, CreateProject, FieldError, Project, StepProviders,
    },
    error::AppError,
    pagination::{Page, PageQuery},
    state::AppState,
};

/// Provider names must be ones this deployment has.
fn validate_providers(state: &AppState, providers: &StepProviders, errors: &mut Vec<FieldError>) {
    for (step, name) in providers.iter() {
        let known = state.providers.names(step);
        if name != crate::domain::project::AUTO_PROVIDER && !known.contains(&name.as_str()) {
            errors.push(FieldError::new(
                format!("settings.providers.{step}"),
                format!("unknown provider `{name}`; available: {}", known.join(", ")),
            ));
        }
    }
}

pub fn validate(state: &AppState, project: &Project) -> Result<(), AppError> {
    // A retired provider gets its own answer, which says why and what to use.
    let providers = &project.settings.providers;
    if let Some((step, retired)) = providers
        .iter()
        .find_map(|(step, name)| Some((step, step.retired(name)?)))
    {
        return Err(AppError::unprocessable(
            crate::error_code::ErrorCode::ProviderRetired,
            format!("settings.providers.{step}: {}", retired.detail()),
        ));
    }
    let mut errors = Vec::new();
    validate_name(&project.name, &mut errors);
    validate_language(&project.language, &mut errors);
    project.settings.validate(&mut errors);
    validate_providers(state, &project.settings.providers, &mut errors);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::Validation(errors))
    }
}

/// Creates a project in a workspace: unset settings take the configured defaults.
pub async fn create(
    state: &AppState,
    workspace_id: Uuid,
    body: CreateProject,
) -> Result<Project, AppError> {
    let defaults = &state.settings.defaults;
    let mut settings = defaults.settings.clone();
    if let Some(patch) = body.settings {
        settings.apply(patch);
    }
    settings
        .providers
        .resolve_auto(|step| state.providers.preferred(step));
    let draft = Project {
        id: Uuid::nil(),
        name: body.name.trim().to_owned(),
        language: body.language.unwrap_or_else(|| defaults.language.clone()),
        settings,
        created_at: chrono::Utc::now(),
        updated_at: chrono::Utc::now(),
        usage: None,
        budget: None,
    };
    validate(state, &draft)?;
    Ok(db::projects::insert(
        &state.pool,
        workspace_id,
        &draft.name,
        &draft.language,
        &draft.settings,
    )
    .await?)
}

/// A workspace's projects, newest first.
pub async fn list(
    state: &AppState,
    workspace_id: Uuid,
    query: &PageQuery,
) -> Result<Page<Project>, AppError> {
    let page = query.parse()?;
    let rows = db::projects::list(&state.pool, workspace_id, page).await?;
    Ok(Page::from_rows(rows, page.limit))
}

/// Refuses with 404 unless the project exists.
pub async fn require(state: &AppState, project_id: Uuid) -> Result<(), AppError> {
    crate::db::projects::get(&state.pool, project_id)
        .await?
        .ok_or(AppError::NotFound("project"))?;
    Ok(())
}

/// A write that referenced a project deleted meanwhile is a 404, not a fault.
pub fn gone_or(error: sqlx::Error) -> AppError {
    match error {
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => AppError::NotFound("project"),
        other => other.into(),
    }
}
