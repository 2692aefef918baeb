// A smoke test of the generated TypeScript client against a running service: log in, list the
// subjects of a town, record a finding on the demo county's Seed A scheme, read the subject's
// result, which must explain it, and download the scheme's ranking as CSV.
//
//   npm run generate && npm run build && KAOHE_BASE=http://127.0.0.1:8080 npm run smoke
//
// Needs the demo county (`kaohe demo`). Exits non-zero on any error.

import createClient from "openapi-fetch";
import type { paths } from "./src/kaohe.js";

const base = process.env.KAOHE_BASE ?? "http://127.0.0.1:8080";
const username = process.env.KAOHE_USERNAME ?? "demo-town-assessor";
const password = process.env.KAOHE_PASSWORD ?? "demo-password-2023";

/// The data of an openapi-fetch answer, or an error naming the call and the problem.
function expect<T>(what: string, answer: { data?: T; error?: unknown; response: Response }): T {
  if (answer.error !== undefined || answer.data === undefined) {
    throw new Error(`${what}: ${answer.response.status} ${JSON.stringify(answer.error)}`);
  }
  return answer.data;
}

async function main(): Promise<void> {
  // Lists and results answer JSON by default and CSV or NDJSON on request: a client narrowed to
  // one media type types its answers as that one.
  const client = createClient<paths, "application/json">({ baseUrl: base });
  const csvClient = createClient<paths, "text/csv">({ baseUrl: base });

  const token = expect(
    "log in",
    await client.POST("/api/v1/auth/token", { body: { grant_type: "password", username, password } }),
  );
  const authorized = {
    onRequest({ request }: { request: Request }) {
      request.headers.set("authorization", `${token.token_type} ${token.access_token}`);
      return request;
    },
  };
  client.use(authorized);
  csvClient.use(authorized);

  const schemes = expect(
    "find the Seed A scheme",
    await client.GET("/api/v1/schemes", { params: { query: { key: "tongshi-2023-village", year: 2023 } } }),
  );
  const scheme = schemes.items[0];
  if (!scheme?.township_id) throw new Error("no Seed A scheme of a town: load the demo county first");

  const villages = expect(
    "find a village",
    await client.GET("/api/v1/subjects", {
      params: { query: { subject_type: "village", township_id: scheme.township_id, limit: 1 } },
    }),
  );
  const village = villages.items[0];
  if (!village) throw new Error(`no village in the town of scheme ${scheme.id}`);

  const finding = expect(
    "record a finding",
    await client.POST("/api/v1/incidents", {
      body: {
        subject_id: village.id,
        scheme_id: scheme.id,
        item_code: "1.1",
        rule_code: "L1",
        quantity: 1,
        occurred_on: "2023-03-01",
        note: "smoke test of the TypeScript client",
      },
    }),
  );

  const result = expect(
    "read the result",
    await client.GET("/api/v1/subjects/{id}/result", {
      params: { path: { id: village.id }, query: { scheme_id: scheme.id } },
    }),
  );
  if (result.result.subject_id !== village.id) throw new Error("the result is of another subject");
  if (!JSON.stringify(result.result).includes(finding.id)) {
    throw new Error(`the result of ${village.name} does not explain finding ${finding.id}`);
  }
  const explained = result.result.evaluations.some((evaluation) =>
    JSON.stringify(evaluation.outcome).includes(finding.id),
  );
  if (!explained) throw new Error(`no evaluation of ${village.name} explains finding ${finding.id}`);

  const ranking = await csvClient.GET("/api/v1/rankings", {
    params: { query: { scheme_id: scheme.id, format: "csv" } },
    parseAs: "text",
  });
  const csv = expect("download the ranking as CSV", ranking);
  const media = ranking.response.headers.get("content-type") ?? "";
  if (!media.startsWith("text/csv")) throw new Error(`the ranking came as ${media}, not text/csv`);
  const header = csv.replace(/^\uFEFF/, "").split(/\r?\n/)[0] ?? "";
  if (!header.includes("published_score")) throw new Error(`the ranking's CSV header is ${header}`);
  if (!csv.includes(village.name)) throw new Error(`the ranking's CSV does not list ${village.name}`);

  const total = result.result.annual.published_score ?? "(none)";
  const lines = csv.trimEnd().split(/\r?\n/).length;
  console.log(
    `smoke: ${username} listed ${villages.items.length} subject(s), recorded finding ${finding.id} on ` +
      `${village.name}; annual score ${total}; ranking CSV of ${lines} lines`,
  );
}

main().catch((err: unknown) => {
  console.error(`smoke: FAILED: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
