// Fake ad trackers on 127.0.0.1, one import for tests: the generic RecordingTracker (answers as the
// test says) and the contract trackers (answer as the real ones do, shared/reference/trackers.md).
export { RecordingTracker, ok, type Behaviour, type Received, type Responder, type TrackerOptions } from "./recording-tracker.ts";
export { ContractTracker, type Override } from "./contract-tracker.ts";
export { FakeKeitaro, FakeKeitaroCompatible, type CompatibleConversion, type KeitaroConversion, type KeitaroStatus } from "./keitaro.ts";
export { FakeAlterCpaLite, FakeAlterCpaPro, type AlterLead } from "./altercpa.ts";
export { FakeBinom, type BinomConversion } from "./binom.ts";
export { FakeUndocumentedTracker } from "./undocumented.ts";
export { FakeProsper202, type Prosper202Conversion } from "./prosper202.ts";
