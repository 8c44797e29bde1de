use std::path::PathBuf;

use clap::{Parser, Subcommand};
use reelforge::{
    access,
    config::Settings,
    db,
    domain::workspace::{Scope, DEFAULT_WORKSPACE},
    openapi,
    startup::{self, Application, Roles},
    telemetry,
};

#[derive(Parser)]
#[command(
    name = "reelforge",
    version,
    about = "Repurpose trending Instagram Reels: a REST/OpenAPI service with durable jobs and SSE"
)]
struct Cli {
    /// A TOML settings file (default: ./reelforge.toml if present). Environment variables
    /// named REELFORGE__SECTION__KEY override it.
    #[arg(long, global = true, env = "REELFORGE_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the API and, unless --no-workers, the job workers.
    Serve {
        #[arg(long)]
        no_workers: bool,
    },
    /// Run job workers only.
    Worker,
    /// Create the database if needed and apply migrations.
    Migrate,
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Print the OpenAPI document.
    Openapi,
    /// List every provider, whether it can be used here, and why not; exits 1 when the offline
    /// pipeline (local engines, ffmpeg) is not complete.
    Doctor,
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create a token; it is printed once, alone on the last line.
    Create {
        #[arg(long)]
        name: String,
        /// The workspace it belongs to, made if it does not exist yet.
        #[arg(long, default_value = DEFAULT_WORKSPACE)]
        workspace: String,
        /// `read` only reads, `write` also changes, `admin` also manages the workspace's tokens.
        #[arg(long, default_value = "write")]
        scope: Scope,
    },
    /// List tokens, with their workspace and scope (never their secret).
    List,
    /// Revoke a token by id or name.
    Revoke { id_or_name: String },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    telemetry::init("info,sqlx=warn,actix_server=warn");
    let cli = Cli::parse();
    if let Command::Openapi = cli.command {
        print!("{}", openapi::spec_json());
        return Ok(());
    }
    let settings = Settings::load(cli.config.as_deref())?;
    match cli.command {
        Command::Openapi => unreachable!("handled above"),
        Command::Serve { no_workers } => {
            run(
                settings,
                Roles {
                    http: true,
                    workers: !no_workers,
                },
            )
            .await?;
        }
        Command::Worker => {
            run(
                settings,
                Roles {
                    http: false,
                    workers: true,
                },
            )
            .await?
        }
        Command::Migrate => {
            startup::prepare_database(&settings).await?;
            eprintln!("migrations applied");
        }
        Command::Token { command } => {
            let pool = startup::prepare_database(&settings).await?;
            token(&pool, command).await?;
        }
        Command::Doctor => {
            let (report, offline_ready) = reelforge::doctor::report(&settings).await;
            print!("{report}");
            if !offline_ready {
                std::process::exit(1);
            }
        }
    }
    Ok(())
}

async fn run(settings: Settings, roles: Roles) -> anyhow::Result<()> {
    let (host, port) = (settings.server.host.clone(), settings.server.port);
    let app = Application::build(settings, roles).await?;
    startup::cancel_on_signal(app.shutdown_token());
    if let Some(port) = app.port() {
        tracing::info!("listening on http://{host}:{port} (docs at /docs)");
    } else {
        tracing::info!(configured_port = port, "running workers only");
    }
    app.run_until_stopped().await
}

async fn token(pool: &sqlx::PgPool, command: TokenCommand) -> anyhow::Result<()> {
    match command {
        TokenCommand::Create {
            name,
            workspace,
            scope,
        } => {
            let name = name.trim();
            anyhow::ensure!(!name.is_empty(), "--name must not be empty");
            let workspace = workspace.trim();
            anyhow::ensure!(!workspace.is_empty(), "--workspace must not be empty");
            let workspace_id = db::tokens::ensure_workspace(pool, workspace).await?;
            let (secret, hash) = access::generate();
            let record = db::tokens::insert(pool, name, &hash, workspace_id, scope).await?;
            eprintln!(
                "created {} token {} ({}) in workspace {}; store it now, it is not shown again:",
                record.scope, record.name, record.id, record.workspace
            );
            println!("{secret}");
        }
        TokenCommand::List => {
            for record in db::tokens::list(pool, None).await? {
                println!("{}", serde_json::to_string(&record)?);
            }
        }
        TokenCommand::Revoke { id_or_name } => {
            let revoked = db::tokens::revoke(pool, &id_or_name).await?;
            anyhow::ensure!(
                revoked > 0,
                "no active token with id or name `{id_or_name}`"
            );
            eprintln!("revoked {revoked} token(s)");
        }
    }
    Ok(())
}
