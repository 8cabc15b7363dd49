package dev.timbre.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.zaxxer.hikari.HikariDataSource;
import dev.timbre.common.secrets.Redaction;
import dev.timbre.config.InvalidConfigException;
import dev.timbre.config.TimbreConfig;
import dev.timbre.db.DatabasePool;
import dev.timbre.job.PostgresJobStore;
import dev.timbre.local.AmqpJobPublisher;
import dev.timbre.local.JobPublisher;
import dev.timbre.local.SqsJobPublisher;
import dev.timbre.source.S3AudioSource;
import dev.timbre.tone.SeMode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.sqs.SqsClient;

/**
 * {@code timbre submit FILE --voice ID}: what a producer does: upload the audio, insert the PENDING job row,
 * publish the job message (RabbitMQ when {@code TIMBRE_AMQP_URL} is set, else SQS {@code TIMBRE_QUEUE_URL}).
 * The object key is derived from the job id, never from the file name.
 */
@Command(name = "submit", mixinStandardHelpOptions = true,
        description = "Upload an audio file, create its job row and publish the job message.",
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:submitted (prints the job as JSON)", "3:bad file, voice id or configuration",
                "1:S3, Postgres or the broker failed"})
final class SubmitCommand implements Callable<Integer> {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern SAFE_EXTENSION = Pattern.compile("[a-z0-9]{1,5}");

    @Spec
    CommandSpec spec;

    @Mixin
    VerboseOption verbosity;

    @Parameters(paramLabel = "FILE", description = "The recording to embed.")
    Path file;

    @Option(names = "--voice", required = true, paramLabel = "ID", description = "The voice it belongs to (1..128 chars).")
    String voiceId;

    @Option(names = "--mode", paramLabel = "MODE", converter = SeModeConverter.class,
            description = "se_mode of the job: get-se or extract-se; default: none in the message, the worker's "
                    + "TIMBRE_SE_MODE decides.")
    SeMode mode;

    @Override
    public Integer call() throws Exception {
        if (voiceId.isEmpty() || voiceId.length() > 128) {
            throw new BadInputException("--voice must be 1..128 characters, was " + voiceId.length());
        }
        if (!Files.isRegularFile(file)) {
            throw new BadInputException(file + ": no such file");
        }
        TimbreConfig config = TimbreConfig.fromEnv(System.getenv());
        TimbreConfig.PublishSettings publishing = TimbreConfig.publishingFromEnv(System.getenv());
        if (publishing.amqpUrl().isEmpty() && config.queueUrl().isEmpty()) {
            // checked before the upload and the job row: a job with nowhere to go must leave no trace
            throw new InvalidConfigException("TIMBRE_AMQP_URL or TIMBRE_QUEUE_URL is required to publish the job");
        }
        long size = Files.size(file);
        if (size > config.maxAudioBytes()) {
            throw new BadInputException(file + ": audio too large: " + size + " bytes exceeds the limit of "
                    + config.maxAudioBytes() + " bytes");
        }
        UUID jobId = UUID.randomUUID();
        String key = "uploads/" + jobId + extensionOf(file);
        try (S3Client s3 = S3AudioSource.newClient(config)) {
            s3.putObject(b -> b.bucket(config.s3Bucket()).key(key), RequestBody.fromFile(file));
        }
        try (HikariDataSource ds = DatabasePool.open(config.dbUrl(), config.dbUser(),
                config.dbPassword().orElse(null), 1)) {
            new PostgresJobStore(ds).create(jobId, voiceId, key);
        }
        ObjectNode message = JSON.createObjectNode();
        message.put("job_id", jobId.toString());
        message.put("voice_id", voiceId);
        message.put("s3_key", key);
        if (mode != null) {
            message.put("se_mode", mode.id());
        }
        message.putObject("metadata").put("filename", file.getFileName().toString());
        String where = null;
        try (JobPublisher publisher = publisher(config, publishing)) {
            publisher.publish(JSON.writeValueAsString(message));
            where = publisher.description();
        } catch (Exception notPublished) {
            if (where != null) {
                // Published and confirmed; only closing the connection failed. The job is on its way: say so.
                LoggerFactory.getLogger(SubmitCommand.class)
                        .warn("job published, but closing the publisher failed: {}", Redaction.text(notPublished.toString()));
            } else {
                // No message will ever carry this job: finish its row rather than leave it PENDING for ever.
                try (HikariDataSource ds = DatabasePool.open(config.dbUrl(), config.dbUser(),
                        config.dbPassword().orElse(null), 1)) {
                    new PostgresJobStore(ds).fail(jobId, "not published: "
                            + Redaction.text(String.valueOf(notPublished.getMessage()), System.getenv()));
                } catch (RuntimeException alsoFailed) {
                    notPublished.addSuppressed(alsoFailed);
                }
                throw notPublished;
            }
        }
        ObjectNode out = JSON.createObjectNode();
        out.put("job_id", jobId.toString());
        out.put("voice_id", voiceId);
        out.put("s3_key", key);
        if (mode != null) {
            out.put("se_mode", mode.id());
        }
        out.put("published_to", where);
        spec.commandLine().getOut().println(out.toString());
        spec.commandLine().getOut().flush();
        return ExitCodes.OK;
    }

    private static JobPublisher publisher(TimbreConfig config, TimbreConfig.PublishSettings publishing)
            throws Exception {
        if (publishing.amqpUrl().isPresent()) {
            ConnectionFactory factory = new ConnectionFactory();
            factory.setUri(publishing.amqpUrl().get());
            factory.setConnectionTimeout(5_000);
            Connection connection = factory.newConnection("timbre-submit");
            return new AmqpJobPublisher(connection, publishing.amqpQueue());
        }
        String queueUrl = config.queueUrl().orElseThrow().toString(); // present: checked in call()
        var builder = SqsClient.builder().region(Region.of(config.awsRegion()))
                .httpClient(UrlConnectionHttpClient.create());
        config.sqsEndpoint().ifPresent(builder::endpointOverride);
        SqsClient sqs = builder.build();
        SqsJobPublisher direct = new SqsJobPublisher(sqs, queueUrl);
        return new JobPublisher() {
            @Override
            public void publish(String body) {
                direct.publish(body);
            }

            @Override
            public String description() {
                return direct.description();
            }

            @Override
            public void close() {
                sqs.close();
            }
        };
    }

    /** A short, safe extension for the object key (informational), or none. */
    private static String extensionOf(Path file) {
        String name = file.getFileName().toString();
        int dot = name.lastIndexOf('.');
        String ext = dot < 0 ? "" : name.substring(dot + 1).toLowerCase(Locale.ROOT);
        return SAFE_EXTENSION.matcher(ext).matches() ? "." + ext : "";
    }
}
