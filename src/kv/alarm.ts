/**
 * Sets the object's alarm for `at` unless one is already due sooner.
 *
 * The time is a whole millisecond after now: an alarm handler that re-set the alarm to the
 * millisecond it was itself scheduled for lost it (the runtime clears that alarm when the
 * handler returns), and a writer stopped flushing for good. The last alarm set is remembered
 * per storage (an object's own memory) so a flood of events does not read storage for it each
 * time, but only while that alarm is still in the future: one that is due or past is checked
 * against storage, so an alarm that did not survive can never silence the object.
 */
const alarms = new WeakMap<DurableObjectStorage, number>();
export async function scheduleAlarm(storage: DurableObjectStorage, at: number, now = Date.now()) {
  const when = Math.max(Math.ceil(at), now + 1);
  const known = alarms.get(storage);
  if (known !== undefined && known > now && known <= when) return;
  const current = await storage.getAlarm();
  if (current === null || current > when) {
    await storage.setAlarm(when);
    alarms.set(storage, when);
  } else alarms.set(storage, current);
}

/** Call at the start of an alarm handler: the alarm that was set has fired. */
export function alarmFired(storage: DurableObjectStorage) {
  alarms.delete(storage);
}
