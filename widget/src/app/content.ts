/** Structured content from the bots, validated before use (anything malformed is ignored). */

export interface PromptOption {
  id: string;
  label: string;
}

export interface Prompt {
  id: string;
  options: PromptOption[];
}

export interface QueueInfo {
  position: number | null;
  minutes: number | null;
}

// The province question has 12 provinces, "rather not say" and "skip": 14 buttons. The cap
// only guards against a hostile or broken prompt flooding the screen.
const MAX_OPTIONS = 24;

function shortText(value: unknown, limit: number): string | null {
  return typeof value === "string" && value.trim() && value.length <= limit ? value : null;
}

/** `nl.keerpunt.prompt`: `{"id", "options": [{"id", "label"}]}`. */
export function parsePrompt(value: unknown): Prompt | null {
  if (typeof value !== "object" || value === null) return null;
  const raw = value as Record<string, unknown>;
  const id = shortText(raw.id, 64);
  if (!id || !Array.isArray(raw.options) || raw.options.length === 0) return null;
  const options: PromptOption[] = [];
  for (const option of raw.options.slice(0, MAX_OPTIONS)) {
    if (typeof option !== "object" || option === null) continue;
    const o = option as Record<string, unknown>;
    const oid = shortText(o.id, 64);
    const label = shortText(o.label, 200);
    if (oid && label) options.push({ id: oid, label });
  }
  return options.length ? { id, options } : null;
}

/** A line of the plain-text list of options: "3. Label" (triage) or "– Label" (handover consent). */
function listsOption(line: string, index: number, label: string): boolean {
  const text = line.trim();
  return text === `${index + 1}. ${label}` || text === `– ${label}` || text === `- ${label}`;
}

/**
 * The bot's text without the plain-text list of options that it adds for clients without
 * buttons (bots/triage/prompts.py, the handover's consent question): where the widget shows
 * buttons, the list would show every answer twice and push the buttons below the fold. The list
 * goes only when every option is there, in order, on consecutive lines; so does a last line
 * right after a numbered list ("Typ het nummer, of typ je antwoord.": there are no numbers to
 * type). Any other text stays as it is.
 */
export function withoutOptionList(body: string, prompt: Prompt): string {
  const lines = body.split("\n");
  const n = prompt.options.length;
  for (let start = 0; start + n <= lines.length; start++) {
    if (!prompt.options.every((o, i) => listsOption(lines[start + i] ?? "", i, o.label))) continue;
    let end = start + n;
    const numbered = (lines[start] ?? "").trim().startsWith("1. ");
    if (numbered && end === lines.length - 1) end += 1;
    return [...lines.slice(0, start), ...lines.slice(end)].join("\n").trimEnd();
  }
  return body;
}

function count(value: unknown): number | null {
  return typeof value === "number" && Number.isInteger(value) && value >= 0 && value < 100000 ? value : null;
}

/** `nl.keerpunt.queue`: `{"position", "wait_minutes"}` (either may be missing). */
export function parseQueue(value: unknown): QueueInfo | null {
  if (typeof value !== "object" || value === null) return null;
  const raw = value as Record<string, unknown>;
  const info = { position: count(raw.position), minutes: count(raw.wait_minutes ?? raw.minutes) };
  return info.position === null && info.minutes === null ? null : info;
}

/** `nl.keerpunt.message`: which bot message this is (`handover.intro`, …), or null. */
export function messageKind(content: Record<string, unknown>): string | null {
  return shortText(content["nl.keerpunt.message"], 64);
}

/** `nl.keerpunt.handover`: `{"partner": "<name>", …}` → the partner's name, or null. */
export function parseHandoverPartner(value: unknown): string | null {
  if (typeof value !== "object" || value === null) return null;
  return shortText((value as Record<string, unknown>).partner, 200);
}

export interface PartnerMember {
  user: string;
  organisation: string;
}

/** `nl.keerpunt.partner`: `{"user": "<matrix id>", "organisation": "<name>"}` (handover.partner_joined). */
export function parsePartnerMember(value: unknown): PartnerMember | null {
  if (typeof value !== "object" || value === null) return null;
  const raw = value as Record<string, unknown>;
  const user = shortText(raw.user, 255);
  const organisation = shortText(raw.organisation, 200);
  return user && organisation ? { user, organisation } : null;
}

/** A question of the visitor's verdict, in both languages (`feedback.questions` in keerpunt.yaml). */
export interface FeedbackQuestion {
  id: string;
  text: { nl: string; en: string };
  answers: { id: string; label: { nl: string; en: string } }[];
}

/** `nl.keerpunt.feedback`: the one-time ticket and the questions to ask after the chat. */
export interface FeedbackOffer {
  ticket: string;
  questions: FeedbackQuestion[];
}

function bothLanguages(value: unknown): { nl: string; en: string } | null {
  if (typeof value !== "object" || value === null) return null;
  const raw = value as Record<string, unknown>;
  const nl = shortText(raw.nl, 200);
  const en = shortText(raw.en, 200);
  return nl && en ? { nl, en } : null;
}

/** At most three questions of at most five answers; anything malformed: no questions at all. */
export function parseFeedbackOffer(value: unknown): FeedbackOffer | null {
  if (typeof value !== "object" || value === null) return null;
  const raw = value as Record<string, unknown>;
  const ticket = shortText(raw.ticket, 64);
  if (!ticket || !Array.isArray(raw.questions) || raw.questions.length < 1 || raw.questions.length > 3) return null;
  const questions: FeedbackQuestion[] = [];
  for (const item of raw.questions) {
    if (typeof item !== "object" || item === null) return null;
    const q = item as Record<string, unknown>;
    const id = shortText(q.id, 32);
    const text = bothLanguages(q.text);
    if (!id || !text || !Array.isArray(q.answers) || q.answers.length < 2 || q.answers.length > 5) return null;
    const answers: FeedbackQuestion["answers"] = [];
    for (const a of q.answers) {
      const answer = typeof a === "object" && a !== null ? (a as Record<string, unknown>) : {};
      const aid = shortText(answer.id, 32);
      const label = bothLanguages(answer.label);
      if (!aid || !label) return null;
      answers.push({ id: aid, label });
    }
    questions.push({ id, text, answers });
  }
  return { ticket, questions };
}

/** `nl.keerpunt.supervisor`: `{"user", "watching"}`: a colleague reads along, or stopped. */
export function parseSupervisor(value: unknown): { user: string; watching: boolean } | null {
  if (typeof value !== "object" || value === null) return null;
  const raw = value as Record<string, unknown>;
  const user = shortText(raw.user, 255);
  return user && typeof raw.watching === "boolean" ? { user, watching: raw.watching } : null;
}
