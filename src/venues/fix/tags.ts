/**
 * FIX tag numbers and enumerated values egress reads or writes, FIX 4.2 and 4.4 (the two versions agree on every
 * tag used here). Defined once; the codec, session and application layers refer to them by name.
 */

export const Tag = {
  Account: 1,
  AvgPx: 6,
  BeginSeqNo: 7,
  BeginString: 8,
  BodyLength: 9,
  CheckSum: 10,
  ClOrdID: 11,
  Commission: 12,
  CommType: 13,
  CumQty: 14,
  Currency: 15,
  EndSeqNo: 16,
  ExecID: 17,
  ExecInst: 18,
  ExecRefID: 19,
  ExecTransType: 20,
  HandlInst: 21,
  LastPx: 31,
  LastQty: 32,
  MsgSeqNum: 34,
  MsgType: 35,
  NewSeqNo: 36,
  OrderID: 37,
  OrderQty: 38,
  OrdStatus: 39,
  OrdType: 40,
  OrigClOrdID: 41,
  PossDupFlag: 43,
  PossResend: 97,
  Price: 44,
  RefSeqNum: 45,
  SenderCompID: 49,
  SendingTime: 52,
  Side: 54,
  Symbol: 55,
  TargetCompID: 56,
  Text: 58,
  TimeInForce: 59,
  TransactTime: 60,
  EncryptMethod: 98,
  CxlRejReason: 102,
  OrdRejReason: 103,
  HeartBtInt: 108,
  TestReqID: 112,
  OrigSendingTime: 122,
  GapFillFlag: 123,
  ResetSeqNumFlag: 141,
  ExecType: 150,
  LeavesQty: 151,
  LastMsgSeqNumProcessed: 369,
  RefTagID: 371,
  RefMsgType: 372,
  SessionRejectReason: 373,
  ExecRestatementReason: 378,
  BusinessRejectRefID: 379,
  BusinessRejectReason: 380,
  CxlRejResponseTo: 434,
  CommCurrency: 479,
  MassStatusReqID: 584,
  MassStatusReqType: 585,
  OrdStatusReqID: 790,
  LastLiquidityInd: 851,
  TotNumReports: 911,
  LastRptRequested: 912,
} as const

export const MsgType = {
  Heartbeat: '0',
  TestRequest: '1',
  ResendRequest: '2',
  Reject: '3',
  SequenceReset: '4',
  Logout: '5',
  ExecutionReport: '8',
  OrderCancelReject: '9',
  Logon: 'A',
  NewOrderSingle: 'D',
  OrderCancelRequest: 'F',
  OrderCancelReplaceRequest: 'G',
  OrderStatusRequest: 'H',
  BusinessMessageReject: 'j',
  OrderMassStatusRequest: 'AF',
} as const

/** Session-level (admin) message types: never application traffic, always gap-filled on a resend request. */
export const ADMIN_MSG_TYPES: ReadonlySet<string> = new Set(['0', '1', '2', '3', '4', '5', 'A'])

/** SessionRejectReason (373) values egress sends. */
export const SessionRejectReason = {
  invalidTagNumber: 0,
  requiredTagMissing: 1,
  tagWithoutValue: 4,
  valueIncorrect: 5,
  incorrectDataFormat: 6,
  compIdProblem: 9,
  sendingTimeAccuracy: 10,
  invalidMsgType: 11,
  tagAppearsMoreThanOnce: 13,
} as const

export type SessionRejectReasonCode = (typeof SessionRejectReason)[keyof typeof SessionRejectReason]

export const BEGIN_STRINGS = ['FIX.4.2', 'FIX.4.4'] as const
export type BeginString = (typeof BEGIN_STRINGS)[number]
