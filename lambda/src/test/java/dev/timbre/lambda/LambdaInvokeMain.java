package dev.timbre.lambda;

import com.amazonaws.services.lambda.runtime.events.SQSBatchResponse;
import dev.timbre.local.LocalContext;
import dev.timbre.pipeline.SqsEvents;

import java.nio.file.Path;

/**
 * A stand-in for the Lambda runtime in a child JVM: constructs {@link VoiceEmbeddingHandler} once with its
 * no-argument constructor (as the runtime does at init, from the real environment), then invokes it once per
 * event file given, printing {@code RESPONSE <failed ids>} after each.
 */
public final class LambdaInvokeMain {

    private LambdaInvokeMain() {
    }

    public static void main(String[] args) {
        VoiceEmbeddingHandler handler = new VoiceEmbeddingHandler();
        for (String file : args) {
            SQSBatchResponse response = handler.handleRequest(SqsEvents.read(Path.of(file)),
                    new LocalContext("timbre-worker", 60_000, 2048));
            System.out.println("RESPONSE " + response.getBatchItemFailures().stream()
                    .map(SQSBatchResponse.BatchItemFailure::getItemIdentifier).toList());
        }
        System.exit(0);
    }
}
