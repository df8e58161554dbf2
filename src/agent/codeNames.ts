/**
 * Report names of code that has no file: short, and derived from the code itself, so the same
 * code gets the same name in every thread (a pool of workers started from one string is one
 * source, its functions one merged row and its races one report) and different code never shares one.
 */
import { STRING_CODE_NAME } from '../protocol/events';

/** 32-bit FNV-1a of a string, as 8 hex digits. */
function shortHash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}

/** Name of a `data:` URL module ("[data: module 1a2b3c4d]"). */
export function dataModuleName(url: string): string {
  return `[data: module ${shortHash(url)}]`;
}

/** Name of the code string of an `eval: true` worker ("[worker eval 1a2b3c4d]"). */
export function evalWorkerName(code: string): string {
  return `[worker eval ${shortHash(code)}]`;
}

/** Name of code compiled through the vm module without a filename ("[vm 1a2b3c4d]"). */
export function vmCodeName(code: string): string {
  return `[vm ${shortHash(code)}]`;
}

/** Name of a function built by the Function constructor, from its whole text ("[function 1a2b3c4d]"). */
export function functionCodeName(text: string): string {
  return `[function ${shortHash(text)}]`;
}

/** True for the name of code compiled from a string in this thread (vm, Function), which a pool may compile again and again. */
export function isStringCodeName(file: string): boolean {
  return STRING_CODE_NAME.test(file);
}
