/**
 * Every command the extension contributes, declared once (as in vscode-js-debug's
 * contributionUtils): a typo is a compile error, and `registerCommands` must be given a
 * handler for each id, so nothing in package.json is left unregistered.
 */
import * as vscode from 'vscode';
import type { ScalingPreset } from './scaling';

/** Command ids, exactly as in package.json `contributes.commands`. */
export const enum Command {
  ProfileInParallel = 'parallelProfiler.profile',
  ProfileScaling = 'parallelProfiler.profileScaling',
  ShowRecentProfiles = 'parallelProfiler.showRecent',
  ExportChromeTrace = 'parallelProfiler.exportChromeTrace',
  ExportCpuProfile = 'parallelProfiler.exportCpuProfile',
  ExportPstats = 'parallelProfiler.exportPstats',
  ExportReportJson = 'parallelProfiler.exportReportJson',
  ClearRunFindings = 'parallelProfiler.clearRunFindings',
}

/** All command ids (const enums vanish at run time, so list them for tests and checks). */
export const allCommands: readonly Command[] = [
  Command.ProfileInParallel,
  Command.ProfileScaling,
  Command.ShowRecentProfiles,
  Command.ExportChromeTrace,
  Command.ExportCpuProfile,
  Command.ExportPstats,
  Command.ExportReportJson,
  Command.ClearRunFindings,
];

/** Arguments each command receives (menus pass the resource URI first). */
export interface CommandArgs {
  [Command.ProfileInParallel]: [uri?: vscode.Uri];
  [Command.ProfileScaling]: [uri?: vscode.Uri, preset?: ScalingPreset];
  [Command.ShowRecentProfiles]: [];
  [Command.ExportChromeTrace]: [];
  [Command.ExportCpuProfile]: [];
  [Command.ExportPstats]: [];
  [Command.ExportReportJson]: [];
  [Command.ClearRunFindings]: [];
}

/** One handler per command id; the mapped type makes a missing one a compile error. */
export type CommandHandlers = { [K in Command]: (...args: CommandArgs[K]) => unknown };

/** Registers every command with its handler. */
export function registerCommands(context: vscode.ExtensionContext, handlers: CommandHandlers): void {
  for (const id of allCommands) {
    const handler = handlers[id] as (...args: unknown[]) => unknown;
    context.subscriptions.push(vscode.commands.registerCommand(id, handler));
  }
}
