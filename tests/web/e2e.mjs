// Drives the trends page in headless Chromium through the whole workflow and prints a JSON
// report for tests/api/web.rs to assert on. Env: BASE_URL, TOKEN, PROJECT_ID, SCREENSHOT_DIR,
// CHROMIUM (default /usr/bin/chromium).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { PNG } from "pngjs";

const { BASE_URL, TOKEN, PROJECT_ID, SCREENSHOT_DIR } = process.env;
const report = {};
const step = (name) => console.error(`e2e: ${name}`);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--autoplay-policy=no-user-gesture-required"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1800 }, locale: "ru-RU" });
  const consoleErrors = [];
  // The players load signed links themselves (no token), asking for ranges as browsers do.
  const signedMedia = [];
  page.on("response", async (response) => {
    const request = response.request();
    if (!response.url().includes("signature=")) return;
    const headers = await request.allHeaders();
    signedMedia.push({
      url: new URL(response.url()).pathname,
      status: response.status(),
      range: headers["range"] ?? null,
      authorization: headers["authorization"] ?? null,
      contentRange: (await response.allHeaders())["content-range"] ?? null,
    });
  });
  page.on("pageerror", (error) => consoleErrors.push(String(error)));
  // The wrong token pasted on purpose below is the one expected failure.
  page.on("console", (message) => message.type() === "error" && !message.text().includes("status of 401") && consoleErrors.push(message.text()));
  // The page's first event stream is cut short after one event, as a dropped connection would
  // be; the reconnection must carry that event's id, and is let through to the service.
  let streams = 0;
  await page.route("**/v1/events*", async (route) => {
    streams += 1;
    if (streams === 1) {
      await route.fulfill({
        status: 200,
        headers: { "content-type": "text/event-stream" },
        body: 'id: 1\nevent: test.ping\ndata: {"id": 1, "kind": "test.ping", "data": {}}\n\n',
      });
      return;
    }
    (report.streamRequests ??= []).push(route.request().headers()["last-event-id"] ?? null);
    if (streams === 2) report.resumedWith = route.request().headers()["last-event-id"] ?? null;
    await route.continue();
  });
  // The project is remembered from an earlier visit, so the first stream is already its own.
  await page.addInitScript((id) => localStorage.setItem("reelforge.project", id), PROJECT_ID);
  await page.goto(BASE_URL + "/");

  step("the token is pasted once");
  report.tokenHiddenWorkspace = await page.locator("#workspace").isHidden();
  await page.fill("#token", "rf_wrong");
  await page.click("#token-form button[type=submit]");
  await page.waitForSelector("#token-status.error");
  report.wrongTokenMessage = await page.textContent("#token-status");
  await page.fill("#token", TOKEN);
  await page.click("#token-form button[type=submit]");
  await page.waitForSelector("#workspace:not([hidden])");
  report.russianHeading = await page.textContent("#collect-section h2");

  step("the project picker remembers the project");
  await page.waitForFunction((id) => [...document.querySelectorAll("#project option")].some((o) => o.value === id), PROJECT_ID);
  report.pickedProject = await page.inputValue("#project");

  step("collect through the form");
  await page.selectOption("#collect-provider", "fake");
  await page.fill("#collect-accounts", "demo, @coach.anna");
  await page.fill("#collect-limit", "3");
  await page.click("#collect-form button[type=submit]");
  await page.waitForFunction(() => document.querySelector("#collect-status").textContent.startsWith("Собрано"), null, { timeout: 30000 });
  await page.waitForFunction(() => document.querySelectorAll("#reels tbody tr").length >= 7);
  report.collectStatus = await page.textContent("#collect-status");
  report.thumbnails = await page.locator("#reels td.thumb img, #reels td.thumb .placeholder").count();
  await page.waitForFunction(() => [...document.querySelectorAll("#reels td.thumb img")].every((img) => img.complete && img.naturalWidth > 0));
  report.frames = await page.$$eval("#reels td.thumb img", (images) =>
    images.map((img) => [img.closest("tr").dataset.reel, img.naturalWidth]),
  );

  step("watch an account: it is collected at once and its rule raises an alert live");
  await page.fill("#watch-name", "Радар");
  await page.fill("#watch-accounts", "demo");
  await page.fill("#watch-every", "6");
  await page.fill("#rule-outlier", "1.2");
  await page.click("#watchlist-form button[type=submit]");
  await page.waitForSelector("#watchlists tbody tr");
  report.watchlistRow = await page.$$eval("#watchlists tbody tr td", (cells) => cells.map((c) => c.textContent));
  await page.waitForSelector("#alerts li", { timeout: 30000 });
  report.alerts = await page.$$eval("#alerts li", (items) => items.map((li) => li.textContent));
  report.alertsEmptyHidden = await page.locator("#alerts-empty").isHidden();

  step("a watched reel's plays over time, as an SVG chart");
  await page.locator("#reels tbody tr", { hasText: "@demo" }).first().locator("td.caption").click();
  await page.waitForFunction(() => document.querySelectorAll("#chart circle").length >= 2, null, { timeout: 15000 });
  report.chart = await page.evaluate(() => ({
    title: document.querySelector("#chart-title").textContent,
    circles: document.querySelectorAll("#chart circle").length,
    points: document.querySelector("#chart polyline").getAttribute("points").split(" ").length,
  }));

  step("a monthly budget, shown as a bar");
  await page.fill("#budget-limit", "5");
  await page.click("#budget-save");
  await page.waitForFunction(() => document.querySelector("#budget-text").textContent.includes("$5.00"));
  report.budget = await page.evaluate(() => ({
    text: document.querySelector("#budget-text").textContent,
    visible: !document.querySelector("#budget").hidden,
  }));

  step("the media library: upload an image, see it typed and counted, delete it");
  const logo = new PNG({ width: 32, height: 32 });
  logo.data.fill(200);
  await page.setInputFiles("#asset-file", { name: "logo.png", mimeType: "image/png", buffer: PNG.sync.write(logo) });
  await page.click('#asset-form button[type="submit"]');
  await page.waitForSelector("#assets tbody tr");
  report.library = {
    rows: await page.$$eval("#assets tbody tr", (rows) => rows.map((row) => [...row.cells].slice(0, 2).map((c) => c.textContent))),
    usage: await page.textContent("#asset-usage"),
    status: await page.textContent("#asset-status"),
  };
  await page.click("#assets tbody tr button");
  await page.waitForFunction(() => document.querySelectorAll("#assets tbody tr").length === 0);
  report.library.afterDelete = await page.textContent("#asset-usage");

  step("sort by plays");
  await page.click('th[data-sort="plays"]');
  await page.waitForSelector('th[data-sort="plays"].sorted');
  await page.waitForTimeout(300);
  report.playsColumn = await page.$$eval("#reels tbody tr td:nth-child(3)", (cells) =>
    cells.map((c) => Number(c.textContent.replace(/[^\d]/g, ""))),
  );

  step("select the top reel and run with chosen providers");
  const firstRow = page.locator("#reels tbody tr").first();
  report.chosenReel = await firstRow.getAttribute("data-reel");
  await firstRow.locator("button").click();
  await page.waitForFunction((id) => document.querySelector(`#reels tr[data-reel="${id}"] button`)?.classList.contains("secondary"), report.chosenReel);
  report.voiceChoice = await page.$eval('select[data-step="voice"] option', (o) => o.textContent);
  await page.selectOption('select[data-step="transcribe"]', "fake");
  await page.selectOption('select[data-step="rewrite"]', "fake");
  await page.selectOption('select[data-step="voice"]', "local");
  await page.selectOption('select[data-step="render"]', "local");
  await page.click("#run-start");

  step("live progress until the video arrives");
  const progressSeen = new Set();
  const deadline = Date.now() + 120000;
  for (;;) {
    const values = await page.$$eval("#progress progress", (bars) => bars.map((b) => b.value));
    values.forEach((v, i) => v > 0 && v < 100 && progressSeen.add(i));
    const ready = await page.evaluate(() => {
      const video = document.querySelector("#video");
      return Boolean(video.src) && video.readyState >= 2;
    });
    if (ready && values.every((v) => v === 100)) break;
    if (Date.now() > deadline) throw new Error(`no video in time; bars ${values}, status ${await page.textContent("#run-status")}`);
    await page.waitForTimeout(100);
  }
  report.runStatus = await page.textContent("#run-status");
  report.stepStates = await page.$$eval("#progress .state", (states) => states.map((s) => s.className.replace("state ", "")));
  report.streamStatus = await page.textContent("#stream-status");
  report.transcript = await page.textContent("#transcript");
  report.checks = await page.$$eval("#script-checks li", (items) => items.map((li) => [li.dataset.check, li.className]));
  report.review = await page.$eval("#script-review", (banner) => ({
    visible: !banner.hidden && banner.getBoundingClientRect().height > 0,
    text: banner.textContent,
  }));
  report.audioReady = await page.evaluate(() => document.querySelector("#audio").src.includes("signature="));
  report.costRows = await page.locator("#costs tbody tr").count();
  report.costMetrics = await page.$$eval("#costs tbody tr td:nth-child(3)", (cells) => cells.map((c) => c.textContent));
  report.projectCost = await page.textContent("#project-cost");

  step("edit the script: the checks run again");
  await page.fill("#script-text", "Начни сегодня. Подпишись на канал!");
  await page.click("#script-save");
  await page.waitForFunction(() => document.querySelector('#script-checks li[data-check="word_count"]')?.classList.contains("fail"));
  report.editedWords = await page.textContent("#script-words");

  step("the video player shows the result");
  report.videoSrc = await page.evaluate(() => document.querySelector("#video").src);
  const video = await page.evaluate(async () => {
    const v = document.querySelector("#video");
    v.muted = true;
    v.currentTime = Math.min(1.0, v.duration / 4);
    await new Promise((resolve) => v.addEventListener("seeked", resolve, { once: true }));
    await new Promise((resolve) => setTimeout(resolve, 500));
    return { width: v.videoWidth, height: v.videoHeight, duration: v.duration };
  });
  report.video = video;
  report.videoRequests = signedMedia.filter((answer) => answer.url.includes("/v1/videos/"));
  const shot = await page.locator("#video").screenshot();
  writeFileSync(join(SCREENSHOT_DIR, "video.png"), shot);
  const png = PNG.sync.read(shot);
  const colours = new Set();
  let white = 0;
  let highlight = 0;
  for (let i = 0; i < png.data.length; i += 4) {
    const [r, g, b] = [png.data[i], png.data[i + 1], png.data[i + 2]];
    colours.add((r >> 4) * 256 + (g >> 4) * 16 + (b >> 4));
    if (r > 220 && g > 220 && b > 220) white += 1;
    // The karaoke highlight of the spoken word, burned into the frame.
    if (r > 200 && g > 140 && g < 230 && b < 90) highlight += 1;
  }
  report.screenshot = { width: png.width, height: png.height, colours: colours.size, white, highlight };

  step("a fast preview in another look and format, then the final render in two formats");
  const shownVideo = () => page.evaluate(() => {
    const v = document.querySelector("#video");
    return { resource: v.dataset.resource, width: v.videoWidth, height: v.videoHeight };
  });
  const renderedWith = async (button) => {
    const before = (await shownVideo()).resource;
    await page.click(button);
    await page.waitForFunction((previous) => {
      const v = document.querySelector("#video");
      return v.dataset.resource !== previous && v.readyState >= 1;
    }, before, { timeout: 60000 });
    return {
      ...(await shownVideo()),
      status: await page.textContent("#render-status"),
      renditions: await page.$$eval("#renditions button", (buttons) => buttons.map((b) => b.textContent)),
    };
  };
  // A library font for the subtitles, chosen from the picker.
  await page.setInputFiles("#asset-file", "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf");
  await page.click('#asset-form button[type="submit"]');
  await page.waitForFunction(() => [...document.querySelectorAll("#font option")].some((o) => o.textContent === "DejaVuSerif.ttf"));
  await page.selectOption("#font", { label: "DejaVuSerif.ttf" });
  await page.selectOption("#subtitle-style", "boxed");
  await page.uncheck('#formats input[value="9:16"]');
  await page.check('#formats input[value="1:1"]');
  report.preview = await renderedWith("#video-preview");
  await page.check('#formats input[value="9:16"]');
  report.finalRender = await renderedWith("#video-final");

  step("the publish panel: the post's words with live limits, an account, a post and its link");
  await page.click("#post-write");
  await page.waitForFunction(() => document.querySelector("#post-title").value.length > 0, null, { timeout: 30000 });
  const limits = () => page.$$eval("#copy-limits li", (items) => items.map((li) => ({ limit: li.dataset.limit, text: li.textContent, over: li.classList.contains("over") })));
  const title = await page.inputValue("#post-title");
  const limitsBefore = await limits();
  await page.fill("#post-title", "Т".repeat(101));
  const limitsOver = await limits();
  await page.fill("#post-title", title);
  await page.click("#post-save");
  await page.waitForFunction(() => document.querySelector("#post-status").textContent.length > 0);
  await page.selectOption("#account-platform", "tiktok");
  await page.fill("#account-name", "anna");
  await page.fill("#account-token", process.env.PLATFORM_TOKEN || "");
  await page.click('#account-form button[type="submit"]');
  await page.waitForFunction(() => document.querySelector("#publish-account").options.length > 0 && !document.querySelector("#publish-start").disabled);
  // Public: TikTok gives private (SELF_ONLY) posts no public id, so no link.
  await page.selectOption("#publish-privacy", "public");
  await page.click("#publish-start");
  const published = '#publications tr[data-status="published"] a';
  await page.waitForSelector(published, { timeout: 30000 });
  report.publish = {
    title, limitsBefore, limitsOver,
    link: await page.getAttribute(published, "href"),
    coverShown: await page.isVisible("#post-cover"),
    accountStatus: await page.textContent("#account-status"),
  };

  step("the English UI");
  await page.selectOption("#ui-language", "en");
  report.englishHeading = await page.textContent("#collect-section h2");
  await page.screenshot({ path: join(SCREENSHOT_DIR, "page.png"), fullPage: true });
  report.consoleErrors = consoleErrors;
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
