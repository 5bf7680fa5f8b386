/**
 * How a run made its opens, read from its history: local first attempts (markers of `openConnector` local
 * activities, src/workflows/v2/local-first.ts) and ordinary `openConnector` activities scheduled.
 */
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

const EventType = temporal.api.enums.v1.EventType;

export async function localOpensOf(client: Client, incidentId: string): Promise<{ local: number; ordinary: number }> {
  const history = await client.workflow.getHandle(`probectl-${incidentId}`).fetchHistory();
  let local = 0;
  let ordinary = 0;
  for (const e of history.events ?? []) {
    if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED && e.activityTaskScheduledEventAttributes?.activityType?.name === 'openConnector') ordinary += 1;
    const marker = e.markerRecordedEventAttributes;
    if (marker?.markerName === 'core_local_activity') {
      const data = marker.details?.data?.payloads?.[0]?.data;
      const type = data ? (JSON.parse(Buffer.from(data).toString('utf8')) as { activity_type?: string }).activity_type : undefined;
      if (type === 'openConnector') local += 1;
    }
  }
  return { local, ordinary };
}
