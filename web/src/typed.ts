/**
 * The typed page (/typed): Qianshi called from a browser with a generated client.
 *
 * Everything below is what a web developer writes in their own app: a transport (Connect, or
 * gRPC-Web with ?protocol=grpcweb) to the gateway's own origin, a client of the generated
 * InterpretService descriptor, `for await` over the server stream, an AbortSignal to cancel, and the
 * google.rpc details of a failed call read with the generated error_details schemas. No SSE, no JSON
 * by hand: every field is typed from protos/.
 *
 * Bundled by scripts/build_web.py (esbuild) into the gateway's static/typed.js.
 */
import { Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import { BadRequestSchema, ErrorInfoSchema, RetryInfoSchema } from "./gen/google/rpc/error_details_pb.js";
import { type ProgressEvent, Stage } from "./gen/qianshi/v1/events_pb.js";
import { DisconnectPolicy, InterpretService } from "./gen/qianshi/v1/interpret_service_pb.js";

const params = new URLSearchParams(location.search);
const protocol = params.get("protocol") === "grpcweb" ? "grpcweb" : "connect";

/** The bearer token, if the page was given one (sessionStorage "qianshi_token"), on every call. */
const bearer: Interceptor = (next) => async (req) => {
  const token = sessionStorage.getItem("qianshi_token");
  if (token) req.header.set("Authorization", `Bearer ${token}`);
  return next(req);
};

const options = { baseUrl: location.origin, interceptors: [bearer] };
// Binary protobuf on both: the gateway relays it as it is (Connect's default, JSON, costs it more
// CPU per event: bench/gateway_cost.py); gRPC-Web is binary by default.
const transport =
  protocol === "grpcweb"
    ? createGrpcWebTransport(options)
    : createConnectTransport({ ...options, useBinaryFormat: true });
const client = createClient(InterpretService, transport);

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const form = $<HTMLFormElement>("ask");
const setSelect = $<HTMLSelectElement>("set");
const log = $<HTMLOListElement>("events");
let running: AbortController | null = null;

function setState(state: "idle" | "streaming" | "done" | "error" | "cancelled"): void {
  document.body.dataset.state = state;
  $<HTMLButtonElement>("submit").disabled = state === "streaming";
  $<HTMLButtonElement>("cancel").hidden = state !== "streaming";
}

function seconds(d: { seconds: bigint; nanos: number } | undefined): string {
  return d ? `${(Number(d.seconds) + d.nanos / 1e9).toFixed(1)} s` : "—";
}

function render(event: ProgressEvent): void {
  const item = document.createElement("li");
  item.dataset.seq = String(event.seq);
  item.dataset.kind = event.payload.case ?? "";
  item.textContent = `#${event.seq} ${event.payload.case} · ${event.message}`;
  log.append(item);
  document.body.dataset.taskId = event.taskId;
  $("stage").textContent = Stage[event.stage];
  $("percent").textContent = `${Math.floor(event.percent)}%`;
  $("fill").style.width = `${event.percent}%`;
  $("message").textContent = event.message;
  $("elapsed").textContent = seconds(event.elapsed);
  $("eta").textContent = seconds(event.eta);
  const payload = event.payload;
  switch (payload.case) {
    case "poem":
      $("poem").hidden = false;
      $("poem-title").textContent = `${payload.value.setName} 第 ${payload.value.number} 籤 ${payload.value.rank}`;
      $("verse").replaceChildren(
        ...payload.value.verseLines.map((line) => Object.assign(document.createElement("p"), { textContent: line })),
      );
      break;
    case "textDelta":
      $("reading").hidden = false;
      $("text").textContent += payload.value.text;
      break;
    case "result":
      $("reading").hidden = false;
      $("text").textContent = payload.value.text;
      $("result-meta").textContent = `${payload.value.generator} · ${payload.value.citedPassageIds.length} sources`;
      break;
    case "error":
      showError(payload.value.status?.code ?? Code.Unknown, payload.value.status?.message ?? "", []);
      break;
  }
}

function showError(code: Code, message: string, details: string[]): void {
  const box = $("error");
  box.hidden = false;
  box.dataset.code = Code[code];
  $("error-title").textContent = `${Code[code]}: ${message}`;
  $("error-detail").textContent = details.join("; ");
}

/** What a failed call says: its code, message and google.rpc details, decoded with typed schemas. */
function explain(err: unknown): void {
  const error = ConnectError.from(err);
  const details: string[] = [];
  for (const info of error.findDetails(ErrorInfoSchema)) details.push(`${info.domain}/${info.reason}`);
  for (const bad of error.findDetails(BadRequestSchema)) {
    for (const v of bad.fieldViolations) details.push(`${v.field}: ${v.description}`);
  }
  for (const retry of error.findDetails(RetryInfoSchema)) {
    details.push(`retry after ${seconds(retry.retryDelay)}`);
  }
  showError(error.code, error.rawMessage, details);
}

async function ask(): Promise<void> {
  running?.abort();
  const abort = (running = new AbortController());
  log.replaceChildren();
  $("text").textContent = "";
  $("error").hidden = $("poem").hidden = $("reading").hidden = true;
  $("watch").hidden = false;
  setState("streaming");
  const data = new FormData(form);
  try {
    const stream = client.interpret(
      {
        setId: String(data.get("set")),
        number: Number(data.get("number")),
        question: String(data.get("question")),
        locale: document.documentElement.lang,
        // A closed tab stops the work at once (the default); KEEP_RUNNING would let a page Watch again.
        disconnectPolicy: DisconnectPolicy.CANCEL,
      },
      { signal: abort.signal, timeoutMs: 5 * 60_000 },
    );
    let last: ProgressEvent | undefined;
    for await (const event of stream) {
      render(event);
      last = event;
    }
    setState(last?.payload.case === "result" ? "done" : "error");
  } catch (err) {
    if (abort.signal.aborted) {
      setState("cancelled");
      return;
    }
    explain(err);
    setState("error");
  }
}

async function loadSets(): Promise<void> {
  try {
    const { sets } = await client.listSets({});
    for (const set of sets) setSelect.add(new Option(`${set.nameZh} (${set.count})`, set.id));
    document.body.dataset.ready = "true";
  } catch (err) {
    explain(err);
    $("watch").hidden = false;
  }
}

form.addEventListener("submit", (e) => {
  e.preventDefault();
  void ask();
});
$("cancel").addEventListener("click", () => running?.abort());
$("protocol").textContent = protocol === "grpcweb" ? "gRPC-Web" : "Connect";
setState("idle");
void loadSets();
