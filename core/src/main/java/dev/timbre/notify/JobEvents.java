package dev.timbre.notify;

import java.nio.charset.StandardCharsets;
import java.util.UUID;

/**
 * How a job transition records its event in the same statement (docs/architecture.md §13): the transition's
 * {@code UPDATE … RETURNING} becomes a CTE whose row, unless deleted, is inserted into {@code job_events}. One
 * statement is one transaction, so the event commits exactly with the transition: a rolled-back or refused update
 * has no event, and a committed one cannot lose its event.
 */
public final class JobEvents {

    public static final String SOURCE = "timbre";
    public static final String COMPLETED = "Voice Embedding Completed";
    public static final String FAILED = "Voice Embedding Failed";

    /** What the transition's UPDATE must return for {@link #recorded}. */
    public static final String RETURNING = " RETURNING id, voice_id, status, attempts, error, result, is_deleted";

    private JobEvents() {
    }

    /**
     * The event id: a name-based UUID of job id and final status, so every retry, sweep and copy of the event carries
     * the same id, and a job failed twice (a late duplicate) records one event.
     */
    public static UUID eventId(UUID jobId, String finalStatus) {
        return UUID.nameUUIDFromBytes(("timbre-job-event:" + jobId + ":" + finalStatus)
                .getBytes(StandardCharsets.UTF_8));
    }

    public static String detailType(String finalStatus) {
        return "COMPLETED".equals(finalStatus) ? COMPLETED : FAILED;
    }

    /**
     * Wraps a job {@code UPDATE … } + {@link #RETURNING} into one statement that also inserts the event; its one
     * parameter after the update's own is the event id. The statement returns one row: how many job rows changed.
     */
    public static String recorded(String update, String finalStatus) {
        return "WITH moved AS (" + update + RETURNING + "), event AS ("
                + " INSERT INTO job_events (event_id, job_id, detail_type, detail)"
                + " SELECT ?, id, '" + detailType(finalStatus) + "', jsonb_build_object("
                + "'event_id', ?::text, 'job_id', id, 'voice_id', voice_id, 'status', status, 'attempts', attempts,"
                + " 'error', error, 'duration_s', result->'audio'->'duration_s', 'model', result->>'model',"
                + " 'embedding', result->'embedding', 'finished_at', now())"
                + " FROM moved WHERE NOT is_deleted ON CONFLICT (event_id) DO NOTHING)"
                + " SELECT count(*) FROM moved";
    }
}
