// One pipeline through a client generated from openapi/openapi.json: compiled with strict
// TypeScript against the generated types (so a wrong path, field or body fails the build), then
// run by Node. Prints a JSON report for tests/api/web.rs. Env: BASE_URL, TOKEN.
// No casts, `any` or non-null assertions: every field read below must be typed by the document.
import createClient from "openapi-fetch";
import type { components, paths } from "./generated/schema.js";

type Run = components["schemas"]["Run"];
type TypedEvent = components["schemas"]["TypedEvent"];

// Node's globals without @types/node: only the environment is used.
declare const process: { env: Record<string, string | undefined> };

const client = createClient<paths>({
  baseUrl: process.env.BASE_URL,
  headers: { Authorization: `Bearer ${process.env.TOKEN}` },
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// Past the token's rate limit the service answers 429 with `Retry-After`: wait that long and
// send the request again, as a frontend would. (Only GETs are retried here: they have no body.)
const limits = { throttled: 0, waitedSeconds: 0 };
client.use({
  async onResponse({ request, response }) {
    let answer = response;
    for (let attempt = 0; answer.status === 429 && request.method === "GET" && attempt < 20; attempt++) {
      const wait = Number(answer.headers.get("Retry-After") ?? "1");
      limits.throttled += 1;
      limits.waitedSeconds += wait;
      await sleep(wait * 1000);
      answer = await fetch(request.url, { headers: request.headers });
    }
    return answer;
  },
});

function must<T>(result: { data?: T; error?: unknown; response: Response }, what: string): T {
  if (result.data === undefined) {
    throw new Error(`${what}: HTTP ${result.response.status} ${JSON.stringify(result.error)}`);
  }
  return result.data;
}

async function waitForJob(id: string): Promise<void> {
  let status = "";
  for (let i = 0; i < 300; i++) {
    const job = must(await client.GET("/v1/jobs/{id}", { params: { path: { id } } }), "job");
    status = job.status;
    if (job.status === "succeeded") return;
    if (job.status === "failed" || job.status === "canceled") throw new Error(`job ${id} ${job.status}`);
    await sleep(100);
  }
  throw new Error(`job ${id} never finished: ${status}`);
}

const project = must(
  await client.POST("/v1/projects", {
    body: { name: "typescript client", language: "en", settings: { providers: { voice: "fake", render: "fake" } } },
  }),
  "create project",
);

const started = must(
  await client.POST("/v1/projects/{id}/collections", {
    params: { path: { id: project.id } },
    body: { source: "apify", provider: "fake", accounts: ["demo"], per_source_limit: 3 },
  }),
  "collect",
);
await waitForJob(started.job.id);

const reels = must(
  await client.GET("/v1/projects/{id}/reels", {
    params: { path: { id: project.id }, query: { sort: "trend_score", limit: 10 } },
  }),
  "reels",
);
const best = reels.items[0];
if (!best) throw new Error("no reels");

// The estimate has its own operation; starting a run answers the run.
const estimate = must(
  await client.POST("/v1/projects/{id}/runs/estimate", {
    params: { path: { id: project.id } },
    body: { reel_id: best.id, providers: { transcribe: "fake", rewrite: "fake" } },
  }),
  "estimate run",
);
if (!estimate.within_budget) throw new Error("over the budget");
// The run stops after the script for review; the script is edited by hand, and the resumed run
// voices and renders the edited text.
const started_run = must(
  await client.POST("/v1/projects/{id}/runs", {
    params: { path: { id: project.id } },
    body: { reel_id: best.id, providers: { transcribe: "fake", rewrite: "fake" }, review: "always" },
  }),
  "start run",
);
async function settle(from: Run): Promise<Run> {
  let current = from;
  for (let i = 0; i < 300 && (current.status === "queued" || current.status === "running"); i++) {
    await sleep(100);
    current = must(await client.GET("/v1/runs/{id}", { params: { path: { id: current.id } } }), "run");
  }
  return current;
}
let run: Run = await settle(started_run);
const review = { stopped: run.status, stepsWhileStopped: run.reels[0]?.steps.length ?? 0, resumed: "", edited: "" };
const reviewedScript = run.reels[0]?.steps.find((s) => s.step === "rewrite");
if (run.status === "awaiting_review" && reviewedScript) {
  const written = must(
    await client.GET("/v1/scripts/{id}", { params: { path: { id: reviewedScript.resource_id } } }),
    "script to review",
  );
  review.edited = `${written.output?.text ?? ""} Edited by hand before the voice.`;
  must(
    await client.PATCH("/v1/scripts/{id}", {
      params: { path: { id: reviewedScript.resource_id } },
      body: { text: review.edited },
    }),
    "edit script",
  );
  const resumed = must(await client.POST("/v1/runs/{id}/resume", { params: { path: { id: run.id } } }), "resume run");
  review.resumed = resumed.status;
  run = await settle(resumed);
}

const steps = run.reels[0]?.steps ?? [];
const scriptStep = steps.find((s) => s.step === "rewrite");
const videoStep = steps.find((s) => s.step === "render");
const audioStep = steps.find((s) => s.step === "voice");
const audio = audioStep
  ? must(await client.GET("/v1/audio/{id}", { params: { path: { id: audioStep.resource_id } } }), "audio")
  : undefined;
const spoken = audio?.output?.words?.map((word) => word.text) ?? [];
const script = scriptStep
  ? must(await client.GET("/v1/scripts/{id}", { params: { path: { id: scriptStep.resource_id } } }), "script")
  : undefined;
const video = videoStep
  ? must(await client.GET("/v1/videos/{id}", { params: { path: { id: videoStep.resource_id } } }), "video")
  : undefined;
// Typed read models: what the run was asked, the reel's prepared media, a collection's and a
// watchlist's parameters (unions on `source`).
const runReelId = run.input.reel_id;
const runTranscribe = run.input.providers?.transcribe;
const reel = must(await client.GET("/v1/reels/{id}", { params: { path: { id: best.id } } }), "reel");
const reelMedia = reel.media ? { duration_ms: reel.media.duration_ms, width: reel.media.width } : null;
const collected = started.collection.parameters;
const collectedAccounts = collected.source === "apify" ? collected.accounts : [];
const watchlist = must(
  await client.POST("/v1/projects/{id}/watchlists", {
    params: { path: { id: project.id } },
    body: {
      name: "radar",
      collection: { source: "apify", provider: "fake", hashtags: ["fitness"], per_source_limit: 2 },
      schedule: { every_hours: 24 },
      paused: true,
    },
  }),
  "watchlist",
);
const watched = watchlist.collection.source === "apify" ? watchlist.collection.hashtags : [];

// Typed step products: the script's text and checks, the video's size and files.
const scriptOutput = script?.output ?? undefined;
const checks = scriptOutput?.checks.map((check) => ({ name: check.name, passed: check.passed })) ?? [];
const writer: "model" | "fitted" | "fallback" | "edited" | undefined = scriptOutput?.writer;
const videoOutput = video?.output ?? undefined;

// Typed events: the project's stream from the start, read until the run's end, switching on
// `kind` to read each kind's own `data`.
const seen = { kinds: new Set<string>(), lastProgress: -1, scriptStatus: "", runProgress: -1, runReels: -1, stoppedStatus: "" };
const controller = new AbortController();
const stream = await fetch(`${process.env.BASE_URL}/v1/events?project_id=${project.id}`, {
  headers: { Authorization: `Bearer ${process.env.TOKEN}`, "Last-Event-ID": "0" },
  signal: controller.signal,
});
const reader = stream.body?.getReader();
const decoder = new TextDecoder();
let buffered = "";
let finished = false;
while (reader && !finished) {
  const chunk = await reader.read();
  if (chunk.done) break;
  buffered += decoder.decode(chunk.value, { stream: true });
  let end = buffered.indexOf("\n\n");
  while (end >= 0 && !finished) {
    const frame = buffered.slice(0, end);
    buffered = buffered.slice(end + 2);
    end = buffered.indexOf("\n\n");
    const line = frame.split("\n").find((l) => l.startsWith("data: "));
    if (!line) continue;
    const event: TypedEvent = JSON.parse(line.slice("data: ".length));
    seen.kinds.add(event.kind);
    switch (event.kind) {
      case "job.progress":
        seen.lastProgress = event.data.progress;
        break;
      case "script.succeeded":
        seen.scriptStatus = event.data.status;
        break;
      case "run.awaiting_review":
        seen.stoppedStatus = event.data.status;
        break;
      case "run.succeeded":
        seen.runProgress = event.data.progress;
        seen.runReels = event.data.reels.length;
        finished = event.resource_id === run.id;
        break;
      default:
        break;
    }
  }
}
controller.abort();

// Past the rate limit: requests sent faster than it refills use up what is left, the one over
// it is answered 429 and sent again after `Retry-After`, so every one ends in a 200.
const probe = await client.GET("/v1/projects/{id}", { params: { path: { id: project.id } } });
const left = Number(/r=(\d+)/.exec(probe.response.headers.get("RateLimit") ?? "")?.[1] ?? "0");
const burst = [];
for (let i = 0; i < left + 100 && limits.throttled === 0; i++) {
  burst.push(await client.GET("/v1/projects/{id}", { params: { path: { id: project.id } } }));
}

// Errors are typed too: a missing run is a problem document with a stable code.
const missing = await client.GET("/v1/runs/{id}", {
  params: { path: { id: "00000000-0000-0000-0000-000000000000" } },
});

console.log(
  JSON.stringify({
    run_id: run.id,
    status: run.status,
    reels: reels.items.length,
    steps: steps.map((s) => s.step),
    script_words: scriptOutput?.word_count,
    script_text: scriptOutput?.text,
    script_writer: writer,
    checks,
    needs_review: scriptOutput?.needs_review,
    video: { width: videoOutput?.width, height: videoOutput?.height, lineage_script: videoOutput?.lineage?.script_id },
    usage: run.usage?.total_cost,
    estimate_total: estimate.total_cost,
    run_input: { reel_id: runReelId, transcribe: runTranscribe },
    reel_media: reelMedia,
    reel_content_url: reel.content_url,
    collection_accounts: collectedAccounts,
    watchlist_hashtags: watched,
    rate_limit: {
      policy: probe.response.headers.get("RateLimit-Policy"),
      burst: burst.length,
      succeeded: burst.filter((answer) => answer.response.status === 200).length,
      throttled: limits.throttled,
      waited_seconds: limits.waitedSeconds,
    },
    problem: { status: missing.response.status, code: missing.error?.code },
    review: { ...review, spoken_last: spoken[spoken.length - 1] ?? "" },
    events: {
      kinds: [...seen.kinds].sort(),
      last_progress: seen.lastProgress,
      script_status: seen.scriptStatus,
      run_progress: seen.runProgress,
      run_reels: seen.runReels,
      stopped_status: seen.stoppedStatus,
    },
  }),
);
