/**
 * A student checks in with the PHQ-9; a counsellor works the flag queue. Compiled by `tsc --noEmit`
 * in the tests, so it stays a correct example of the generated types.
 */
import { LOCAL_BASE_URLS, type Wellbeing, wellbeingClient } from "../src/index";

type CheckinResult = Wellbeing.components["schemas"]["CheckinResult"];

export async function checkIn(studentToken: string, answers: number[]): Promise<CheckinResult> {
  const wellbeing = wellbeingClient({ baseUrl: LOCAL_BASE_URLS.wellbeing, token: () => studentToken });
  const { data, error } = await wellbeing.POST("/v1/checkins", {
    params: { header: { "Idempotency-Key": crypto.randomUUID() } },
    body: { instrument: "phq9", answers },
  });
  if (error) {
    // problem+json (RFC 9457); an urgent check-in that could not be recorded still names crisis resources
    throw new Error(`${error.title}: ${error.detail ?? ""}`);
  }
  if (data.severity === "urgent") console.log("crisis resources:", data.crisis_resources);
  return data;
}

export async function resolveOldestUrgentFlag(counsellorToken: string): Promise<void> {
  const wellbeing = wellbeingClient({ baseUrl: LOCAL_BASE_URLS.wellbeing, token: () => counsellorToken });
  const { data: page } = await wellbeing.GET("/v1/flags", { params: { query: { status: "open", limit: 20 } } });
  const urgent = page?.items.find((flag) => flag.severity === "urgent");
  if (!urgent) return;
  const { error } = await wellbeing.POST("/v1/flags/{flag_id}/resolve", {
    params: { path: { flag_id: urgent.id } },
    body: { outcome: "contacted", note: "spoke today" },
  });
  if (error) throw new Error(error.title);
}
