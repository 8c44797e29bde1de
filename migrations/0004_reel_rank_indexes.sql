-- Every ranking order reads the top of one of these instead of sorting a project's reels.
CREATE INDEX reels_rank_trend ON reels (project_id, trend_score DESC NULLS LAST, id);
CREATE INDEX reels_rank_outlier ON reels (project_id, outlier_score DESC NULLS LAST, id);
CREATE INDEX reels_rank_plays ON reels (project_id, plays DESC NULLS LAST, id);
CREATE INDEX reels_rank_velocity ON reels (project_id, velocity DESC NULLS LAST, id);
CREATE INDEX reels_rank_engagement ON reels (project_id, engagement_rate DESC NULLS LAST, id);
CREATE INDEX reels_rank_posted ON reels (project_id, posted_at DESC NULLS LAST, id);
CREATE INDEX reels_hashtags ON reels USING GIN (hashtags);
