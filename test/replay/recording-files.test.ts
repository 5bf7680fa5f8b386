/**
 * The history recorder's file rules (test/replay/recording-files.ts): lifecycles are selected by name, and a
 * recording that exists is never overwritten.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { existingRecordings, recordingDir, recordingFile, refuseOverwrite, selectLifecycles, writeNewRecording } from './recording-files';

describe('history recorder files', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'recordings-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('RECORD_ONLY selects lifecycles by name, in the recorder\'s order; an unknown name is refused', () => {
    const all = ['plain-resolve', 'redrive', 'reconciliation'];
    expect(selectLifecycles(all, undefined)).toEqual(all);
    expect(selectLifecycles(all, ' ')).toEqual(all);
    expect(selectLifecycles(all, 'reconciliation, redrive')).toEqual(['redrive', 'reconciliation']);
    expect(() => selectLifecycles(all, 'redrive,redriev')).toThrow(/unknown lifecycle\(s\): redriev \(known: plain-resolve, redrive, reconciliation\)/);
  });

  test('RECORD_INTO is one folder under the base, never a path', () => {
    expect(recordingDir('/h', undefined)).toBe('/h');
    expect(recordingDir('/h', 'second-resolve-v2')).toBe(join('/h', 'second-resolve-v2'));
    expect(() => recordingDir('/h', '../elsewhere')).toThrow(/one folder name/);
    expect(() => recordingDir('/h', 'a/b')).toThrow(/one folder name/);
  });

  test('file names: one run is name.json, several are name.run-N.json', () => {
    expect(recordingFile('redrive', 1, 1)).toBe('redrive.json');
    expect(recordingFile('continue-as-new', 2, 3)).toBe('continue-as-new.run-2.json');
  });

  test('an existing recording of a selected lifecycle is refused, naming the file; other lifecycles pass', () => {
    writeFileSync(join(dir, 'continue-as-new.run-2.json'), '{}');
    writeFileSync(join(dir, 'continue-as-new-in-flight.run-1.json'), '{}');
    writeFileSync(join(dir, 'plain-resolve.json'), '{}');
    expect(existingRecordings(dir, 'continue-as-new')).toEqual(['continue-as-new.run-2.json']);
    expect(() => refuseOverwrite(dir, ['redrive', 'continue-as-new'])).toThrow(`refusing to overwrite ${join(dir, 'continue-as-new.run-2.json')}`);
    expect(() => refuseOverwrite(dir, ['plain-resolve'])).toThrow(join(dir, 'plain-resolve.json'));
    expect(() => refuseOverwrite(dir, ['redrive', 'reconciliation'])).not.toThrow();
    expect(() => refuseOverwrite(join(dir, 'not-there'), ['plain-resolve'])).not.toThrow();
  });

  test('writeNewRecording never overwrites: the file keeps its content and the error names it', () => {
    const file = join(dir, 'redrive.json');
    writeNewRecording(file, 'first\n');
    expect(() => writeNewRecording(file, 'second\n')).toThrow(`${file} exists already; not overwritten`);
    expect(readFileSync(file, 'utf8')).toBe('first\n');
  });
});
