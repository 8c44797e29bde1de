//! Step 7's vocabulary: the platforms, the words a video is posted with, the accounts a project
//! posts from, and each publication.

use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{project::FieldError, text_enum, ErrorInfo};

text_enum! {
    /// A platform videos are published to.
    Platform {
        Instagram => "instagram",
        Youtube => "youtube",
        Tiktok => "tiktok",
    }
}

/// The words of a post: what every platform's fields are made from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostCopy {
    /// YouTube's title; the other platforms show the caption.
    #[schema(example = "Три привычки, которые меняют утро")]
    pub title: String,
    #[schema(example = "Начните с одной привычки завтра. Сохраните, чтобы не забыть.")]
    pub caption: String,
    /// Without `#`; each is one word (letters, digits, `_`).
    #[schema(example = json!(["мотивация", "утро", "привычки"]))]
    pub hashtags: Vec<String>,
}

impl PostCopy {
    /// The hashtags as written in a caption: `#one #two`.
    pub fn hashtag_line(&self) -> String {
        self.hashtags
            .iter()
            .map(|tag| format!("#{tag}"))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The caption with its hashtags, as Instagram and TikTok show it.
    pub fn caption_with_hashtags(&self) -> String {
        let tags = self.hashtag_line();
        match (self.caption.trim().is_empty(), tags.is_empty()) {
            (_, true) => self.caption.trim().to_owned(),
            (true, false) => tags,
            (false, false) => format!("{}\n\n{tags}", self.caption.trim()),
        }
    }
}

/// Who wrote a post's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CopyWriter {
    /// The rewrite provider's model, and the words passed every check.
    Model,
    /// Built from the script and the reel's hashtags because the model's answer failed a check
    /// or was not JSON: review it before posting.
    Fallback,
    /// Edited by hand.
    Edited,
}

/// One check of a post's words, against a platform's documented limit or the house rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CopyCheck {
    #[schema(example = "instagram_caption_length")]
    pub name: String,
    /// The platform whose limit this is; none for rules every platform shares.
    pub platform: Option<Platform>,
    pub passed: bool,
    #[schema(example = "412 of 2200 characters")]
    pub detail: String,
}

/// A frame of the video chosen as the post's cover.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Cover {
    /// Where in the video the frame is, in milliseconds.
    pub offset_ms: u64,
    /// Media store key of the JPEG.
    pub key: String,
}

/// A post resource's output: the words, where they came from and how they fared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PostOutput {
    /// YouTube's title; the other platforms show the caption.
    pub title: String,
    pub caption: String,
    /// Without `#`.
    pub hashtags: Vec<String>,
    #[schema(example = "ru")]
    pub language: String,
    pub writer: CopyWriter,
    /// The model that wrote the words, when one did.
    pub model: Option<String>,
    pub cover: Option<Cover>,
    pub checks: Vec<CopyCheck>,
    /// The words failed a check, or are a fallback: a person should read them before posting.
    pub needs_review: bool,
    /// Why a review is needed, one reason each.
    pub review_reasons: Vec<String>,
    pub usage: crate::domain::output::TokenUsage,
    /// Credit lines for the stock clips in the video ("Video by … on Pexels"), offered to add
    /// to the caption; the words above do not hold them.
    #[serde(default)]
    pub credits: Vec<String>,
}

impl PostOutput {
    /// Whether a cover frame was chosen (and its JPEG kept).
    pub fn has_cover(&self) -> bool {
        self.cover.is_some()
    }

    pub fn copy(&self) -> PostCopy {
        PostCopy {
            title: self.title.clone(),
            caption: self.caption.clone(),
            hashtags: self.hashtags.clone(),
        }
    }
}

/// A hand edit of a post's words; unset fields keep theirs.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostPatch {
    pub title: Option<String>,
    pub caption: Option<String>,
    pub hashtags: Option<Vec<String>>,
}

text_enum! {
    /// Whether an account's tokens still work.
    AccountStatus {
        Connected => "connected",
        ReauthorizationNeeded => "reauthorization_needed",
    }
}

text_enum! {
    /// How an Instagram account was connected, which decides the host its token talks to:
    /// Facebook Login for Business (`graph.facebook.com`, resumable upload allowed) or
    /// Instagram Login (`graph.instagram.com`, videos only by public link, the token refreshed
    /// with itself before its 60 days run out).
    InstagramLogin {
        Facebook => "facebook",
        Instagram => "instagram",
    }
}

impl InstagramLogin {
    /// The login a token came from, read from its shape: Instagram Login tokens start with
    /// `IG`, Facebook's with `EAA`; anything else is taken for Facebook's, as before logins
    /// were told apart.
    pub fn of_token(token: &str) -> Self {
        if token.starts_with("IG") {
            InstagramLogin::Instagram
        } else {
            InstagramLogin::Facebook
        }
    }
}

/// A platform account a project posts with. Its tokens are stored sealed and never shown.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Account {
    pub id: Uuid,
    pub project_id: Uuid,
    pub platform: Platform,
    #[schema(example = "@anna.daily")]
    pub name: String,
    /// The platform's id of the account (an Instagram user id, a TikTok open_id, a channel).
    #[schema(example = "17841400000000000")]
    pub external_id: Option<String>,
    pub status: AccountStatus,
    /// Why the account needs authorizing again.
    pub status_reason: Option<String>,
    /// When the access token expires, if the platform said.
    pub expires_at: Option<DateTime<Utc>>,
    /// A refresh token is kept, so the access token is renewed without the user.
    pub refreshable: bool,
    /// Instagram accounts only: the login their token came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instagram_login: Option<InstagramLogin>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Tokens pasted by the user (from the platform's developer tools or another app).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAccount {
    pub platform: Platform,
    #[schema(example = "@anna.daily")]
    pub name: String,
    /// Required for Instagram: the Instagram professional account's user id.
    pub external_id: Option<String>,
    #[schema(value_type = String, example = "EAAG...")]
    pub access_token: SecretString,
    #[schema(value_type = Option<String>)]
    pub refresh_token: Option<SecretString>,
    /// Seconds the access token lives, as the platform said.
    #[schema(example = 3600)]
    pub expires_in: Option<u64>,
}

/// The longest account name.
const MAX_NAME_CHARS: usize = 200;

impl NewAccount {
    pub fn problems(&self) -> Vec<FieldError> {
        use secrecy::ExposeSecret;
        let mut problems = Vec::new();
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
            problems.push(FieldError::new(
                "name",
                format!("must be 1 to {MAX_NAME_CHARS} characters"),
            ));
        }
        let token = self.access_token.expose_secret();
        if token.trim().is_empty() || token.len() > 4096 || token.contains(char::is_whitespace) {
            problems.push(FieldError::new(
                "access_token",
                "must be the token as the platform gave it (no spaces, at most 4096 characters)",
            ));
        }
        if self.platform == Platform::Instagram && self.refresh_token.is_some() {
            problems.push(FieldError::new(
                "refresh_token",
                "Instagram has no refresh token: paste a long-lived access token (an Instagram Login token is renewed with itself)",
            ));
        }
        if let Some(refresh) = &self.refresh_token {
            let refresh = refresh.expose_secret();
            if refresh.trim().is_empty() || refresh.len() > 4096 {
                problems.push(FieldError::new(
                    "refresh_token",
                    "must be the token as the platform gave it (at most 4096 characters)",
                ));
            }
        }
        let external = self.external_id.as_deref().map(str::trim);
        match (self.platform, external) {
            (Platform::Instagram, None | Some("")) => problems.push(FieldError::new(
                "external_id",
                "Instagram needs the Instagram user id the token posts as",
            )),
            (_, Some(id)) if id.is_empty() || id.len() > 200 => problems.push(FieldError::new(
                "external_id",
                "must be 1 to 200 characters",
            )),
            _ => {}
        }
        if self.expires_in == Some(0) {
            problems.push(FieldError::new("expires_in", "must be at least 1 second"));
        }
        problems
    }
}

/// Where to send the user to connect an account with OAuth.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AuthorizationLink {
    /// Open this in the user's browser; the platform sends them back to the callback.
    pub url: String,
    /// The link is good until then.
    pub expires_at: DateTime<Utc>,
}

/// Starting an OAuth connection.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthorizeAccount {
    pub platform: Platform,
    /// The name the account gets here.
    #[schema(example = "My channel")]
    pub name: String,
}

text_enum! {
    /// Who may see a post. Each platform takes some: Instagram `public`; YouTube `public`,
    /// `unlisted`, `private`; TikTok `public`, `friends`, `followers`, `private`, as far as the
    /// creator's account allows.
    Privacy {
        Public => "public",
        Unlisted => "unlisted",
        Private => "private",
        Friends => "friends",
        Followers => "followers",
    }
}

impl Privacy {
    pub fn allowed_on(platform: Platform) -> &'static [Privacy] {
        match platform {
            Platform::Instagram => &[Privacy::Public],
            Platform::Youtube => &[Privacy::Public, Privacy::Unlisted, Privacy::Private],
            Platform::Tiktok => &[
                Privacy::Public,
                Privacy::Friends,
                Privacy::Followers,
                Privacy::Private,
            ],
        }
    }
}

text_enum! {
    /// How a TikTok video is handed over: `direct` posts it at once (`video.publish` scope);
    /// `inbox` sends it to the creator's TikTok inbox as a draft to finish in the app
    /// (`video.upload`).
    TiktokMode {
        Direct => "direct",
        Inbox => "inbox",
    }
}

text_enum! {
    /// Where a publication is: `scheduled` waits for `schedule_at` (or a free worker),
    /// `uploading` sends the bytes, `processing` waits for the platform, `published` is posted
    /// (or, for the TikTok inbox, delivered as a draft).
    PublicationStatus {
        Scheduled => "scheduled",
        Uploading => "uploading",
        Processing => "processing",
        Published => "published",
        Failed => "failed",
        Canceled => "canceled",
    }
}

/// Publishing a video to one account.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPublication {
    pub account_id: Uuid,
    /// The post (words) to use; the video's newest succeeded post when unset.
    pub post_id: Option<Uuid>,
    /// Words to use instead of the post's, checked the same way.
    pub copy: Option<PostCopy>,
    /// `public` unless set; see [`Privacy`] for what each platform takes.
    pub privacy: Option<Privacy>,
    /// Post then, not now (at least a minute ahead, at most 180 days). YouTube keeps the
    /// schedule itself (`publishAt`, uploaded private now); for the others the service posts
    /// at that time.
    pub schedule_at: Option<DateTime<Utc>>,
    /// TikTok: post directly (default) or send to the creator's inbox as a draft.
    pub tiktok_mode: Option<TiktokMode>,
    /// Instagram: also show the Reel in the feed (default true).
    pub share_to_feed: Option<bool>,
    /// The cover frame, in milliseconds into the video; the post's chosen cover otherwise.
    pub cover_offset_ms: Option<u64>,
}

/// What a publication was asked to do, as checked and stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PublicationRequest {
    pub copy: PostCopy,
    pub post_id: Option<Uuid>,
    pub privacy: Privacy,
    pub schedule_at: Option<DateTime<Utc>>,
    pub tiktok_mode: TiktokMode,
    pub share_to_feed: bool,
    pub cover_offset_ms: Option<u64>,
    /// The platform's AI-generated content flag, from the project setting (on by default).
    pub ai_generated: bool,
}

text_enum! {
    /// How a publication ended on the platform: `posted` (live), `scheduled` (uploaded private
    /// and made public by YouTube at `schedule_at`; cancel it in YouTube Studio) or `inbox` (a
    /// TikTok draft in the creator's inbox).
    PublishOutcome {
        Posted => "posted",
        Scheduled => "scheduled",
        Inbox => "inbox",
    }
}

text_enum! {
    /// What a publication (or its YouTube cover) is waiting for: `quota_reset` (YouTube's daily
    /// quota is used up; it resets at midnight Pacific time), `post_id` (TikTok posted the
    /// video and is moderating it; its id and link come after, up to a day later) or
    /// `processing` (YouTube is processing the video; its custom thumbnail is set after).
    WaitReason {
        QuotaReset => "quota_reset",
        PostId => "post_id",
        Processing => "processing",
    }
}

/// Why a publication is paused and when the service looks again. It waits in the job queue, so
/// a restart changes nothing; the wait spends none of the job's attempts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PublicationWait {
    pub reason: WaitReason,
    /// When the service tries again.
    pub until: DateTime<Utc>,
    #[schema(
        example = "YouTube's daily upload quota is used up; uploading after it resets at midnight Pacific time"
    )]
    pub message: String,
}

text_enum! {
    /// Where a YouTube post's custom thumbnail stands: `pending` (set once YouTube has
    /// processed the video), `applied`, `failed` (the post stands with YouTube's own frame;
    /// `message` says why) or `skipped` (the publication has no cover).
    CoverStatus {
        Pending => "pending",
        Applied => "applied",
        Failed => "failed",
        Skipped => "skipped",
    }
}

/// The post's cover set on the platform after the upload (YouTube's custom thumbnail,
/// `thumbnails.set`). A follow-up: it never holds the post back or fails it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PublicationCover {
    pub status: CoverStatus,
    /// Why it failed, or what it waits for.
    #[schema(
        example = "YouTube refused the custom thumbnail (forbidden): the channel must be verified to use custom thumbnails"
    )]
    pub message: Option<String>,
    /// While pending: what it waits for (`processing`, `quota_reset`) and until when.
    pub waiting: Option<PublicationWait>,
}

impl PublicationCover {
    pub fn new(status: CoverStatus, message: Option<String>) -> Self {
        PublicationCover {
            status,
            message,
            waiting: None,
        }
    }
}

/// One video posted (or to be posted) to one account.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Publication {
    pub id: Uuid,
    pub project_id: Uuid,
    pub video_id: Uuid,
    pub account_id: Uuid,
    pub platform: Platform,
    pub status: PublicationStatus,
    pub request: PublicationRequest,
    pub schedule_at: Option<DateTime<Utc>>,
    pub job_id: Option<Uuid>,
    /// The platform's id of the post (Instagram media id, YouTube video id, TikTok post id).
    #[schema(example = "dQw4w9WgXcQ")]
    pub post_id: Option<String>,
    #[schema(example = "https://www.youtube.com/shorts/dQw4w9WgXcQ")]
    pub post_url: Option<String>,
    pub outcome: Option<PublishOutcome>,
    pub error: Option<ErrorInfo>,
    /// Set while the publication waits for something on the platform's side; none otherwise.
    pub waiting: Option<PublicationWait>,
    /// YouTube only: the custom thumbnail, set once the upload is processed. None for the
    /// platforms that take the cover frame with the upload, and before the post exists.
    pub cover: Option<PublicationCover>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
}

/// What a publish job reports: where the post is, and its cover once there is one to set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Posting {
    pub publication_id: Uuid,
    pub post_id: Option<String>,
    pub post_url: Option<String>,
    pub outcome: Option<PublishOutcome>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cover: Option<PublicationCover>,
}
