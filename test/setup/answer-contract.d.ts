export interface RecordedAnswer {
  method: string;
  route: string;
  status: number;
}
export function documentedStatuses(doc: unknown): Map<string, Set<string>>;
export function readAnswers(file: string | undefined): RecordedAnswer[];
export function offendingAnswers(answers: RecordedAnswer[], doc: unknown): string[];
export function checkRun(file?: string, documentFile?: string): { answers: number; offending: string[] };
