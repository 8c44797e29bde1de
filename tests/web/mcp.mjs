// An MCP client (the official TypeScript SDK) drives reelforge's /mcp: lists the tools, runs a
// pipeline on the fake providers end to end with progress, reads and edits the script, fetches
// the video, and meets a tool error and an unknown tool. Prints a JSON report as its last line,
// asserted on by tests/api/mcp.rs. BASE_URL and TOKEN come from the test.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const base = process.env.BASE_URL;
const token = process.env.TOKEN;
const report = {};

function connect(withToken) {
  const client = new Client({ name: 'reelforge-test', version: '1.0.0' });
  const headers = withToken ? { Authorization: `Bearer ${withToken}` } : {};
  const transport = new StreamableHTTPClientTransport(new URL('/mcp', base), {
    requestInit: { headers },
  });
  return { client, transport };
}

async function call(client, name, args, options) {
  const result = await client.callTool({ name, arguments: args }, undefined, options);
  if (result.isError) {
    return { error: JSON.parse(result.content[0].text) };
  }
  return result.structuredContent;
}

// No token, no access.
{
  const { client, transport } = connect(null);
  try {
    await client.connect(transport);
    report.withoutToken = 'connected';
  } catch (error) {
    report.withoutToken = String(error.message ?? error);
  }
}
{
  const { client, transport } = connect('rf_not-a-token');
  try {
    await client.connect(transport);
    report.wrongToken = 'connected';
  } catch (error) {
    report.wrongToken = String(error.message ?? error);
  }
}

const { client, transport } = connect(token);
await client.connect(transport);
report.server = client.getServerVersion();
report.protocolVersion = transport.protocolVersion;
report.instructions = client.getInstructions();

const { tools } = await client.listTools();
report.tools = tools.map((tool) => tool.name);
report.schemas = Object.fromEntries(tools.map((tool) => [tool.name, tool.inputSchema]));
report.outputSchemas = Object.fromEntries(tools.map((tool) => [tool.name, tool.outputSchema]));

const project = await call(client, 'create_project', {
  name: 'mcp',
  language: 'ru',
  settings: { words: { min: 10, max: 25 }, target_duration_seconds: 6 },
});
report.project = project;

const collection = await call(client, 'collect', {
  project_id: project.id,
  collection: { source: 'apify', provider: 'fake', accounts: ['demo'], per_source_limit: 2 },
  wait_seconds: 60,
});
report.collection = collection;

const reels = await call(client, 'list_reels', {
  project_id: project.id,
  filters: { sort: 'plays', limit: 10 },
});
report.reels = reels;

report.estimate = await call(client, 'estimate_run', {
  project_id: project.id,
  run: { reel_id: reels.items[0].id },
});

const progress = [];
const run = await call(
  client,
  'start_run',
  { project_id: project.id, run: { reel_id: reels.items[0].id }, wait_seconds: 120 },
  {
    onprogress: (update) => progress.push(update),
    timeout: 150_000,
  },
);
report.run = run;
report.progress = progress;

const stepOf = (name) => run.reels[0].steps.find((step) => step.step === name).resource_id;
report.script = await call(client, 'get_script', { script_id: stepOf('rewrite') });
report.edited = await call(client, 'edit_script', {
  script_id: stepOf('rewrite'),
  edit: { text: 'Каждое утро ты выбираешь, кем станешь. Начни сегодня. Подпишись!' },
});
report.runAgain = await call(client, 'get_run', { run_id: run.id });

const link = await call(client, 'get_video_link', { video_id: stepOf('render') });
report.link = link;
const video = await fetch(link.url, { headers: { Authorization: `Bearer ${token}` } });
const bytes = new Uint8Array(await video.arrayBuffer());
report.videoStatus = video.status;
report.videoType = video.headers.get('content-type');
report.videoBytes = bytes.length;
report.videoBrand = new TextDecoder().decode(bytes.slice(4, 8));

report.post = await call(client, 'write_post', { video_id: stepOf('render'), wait_seconds: 60 });
report.postEdited = await call(client, 'edit_post', { post_id: report.post.id, edit: { title: 'Утро начинается с решения' } });
report.accounts = await call(client, 'list_accounts', { project_id: project.id });
report.publishRefused = await call(client, 'publish_video', {
  video_id: stepOf('render'),
  publication: { account_id: '00000000-0000-4000-8000-000000000000' },
});

// A refused call is the tool's own error, carrying the problem and its stable code.
report.refused = await call(client, 'start_run', {
  project_id: project.id,
  run: { reel_id: reels.items[0].id, options: { voice: { speed: 9 } } },
});
report.badArguments = await call(client, 'get_run', { run: 'nope' });
try {
  await client.callTool({ name: 'no_such_tool', arguments: {} });
  report.unknownTool = 'answered';
} catch (error) {
  report.unknownTool = { code: error.code, message: error.message };
}

await client.close();
console.log(JSON.stringify(report));
