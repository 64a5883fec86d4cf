/**
 * The layouts pinned for payload version 13 (registry.ts): the config digest and build an account's own switch was
 * decided under (account.switch_changed configDigest, buildCommit: src/domain/events/record-parts.ts attribution), as
 * switch.changed has from version 12. Kept apart from layout-pin.test.ts (which spreads them into its pins) only for that
 * file's length. account.switch_changed went from 3 to 13: it was never written as 4 to 12, whose readers have its
 * version 3 layout (a build at 12 reads account.switch_changed@12 so, hence 13 and not 12).
 */

export const PINNED_LAYOUTS_V13: Record<string, string> = {
  'account.switch_changed@4': '{accountId:word action:word atMs:number note:word principalId:word switch:word}',
  'account.switch_changed@5': '{accountId:word action:word atMs:number note:word principalId:word switch:word}',
  'account.switch_changed@6': '{accountId:word action:word atMs:number note:word principalId:word switch:word}',
  'account.switch_changed@7': '{accountId:word action:word atMs:number note:word principalId:word switch:word}',
  'account.switch_changed@8': '{accountId:word action:word atMs:number note:word principalId:word switch:word}',
  'account.switch_changed@9': '{accountId:word action:word atMs:number note:word principalId:word switch:word}',
  'account.switch_changed@10': '{accountId:word action:word atMs:number note:word principalId:word switch:word}',
  'account.switch_changed@11': '{accountId:word action:word atMs:number note:word principalId:word switch:word}',
  'account.switch_changed@12': '{accountId:word action:word atMs:number note:word principalId:word switch:word}',
  'account.switch_changed@13': '{accountId:word action:word atMs:number buildCommit:optional(word) configDigest:optional(word) note:word principalId:word switch:word}',
}
