package dev.timbre.bench;

import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.main.Main;
import org.apache.camel.processor.aggregate.GroupedBodyAggregationStrategy;
import org.springframework.amqp.rabbit.connection.CachingConnectionFactory;

/**
 * The baseline a user would otherwise deploy: an Apache Camel 4.17 route from {@code spring-rabbitmq:} to
 * {@code aws2-sqs:}. Mode {@code default}: the components' defaults (AUTO ack, one consumer, one
 * {@code SendMessage} per message). Mode {@code batch}: the documented batch operation,
 * {@code operation=sendBatchMessage}, fed by an aggregator of 10 bodies.
 *
 * <p>Arguments: mode, AMQP port, RabbitMQ queue, SQS endpoint, SQS queue name. Runs until the process is stopped.
 */
public final class CamelRouteMain {

    private CamelRouteMain() {
    }

    public static void main(String[] args) throws Exception {
        String mode = args[0];
        int amqpPort = Integer.parseInt(args[1]);
        String rabbitQueue = args[2];
        String sqsEndpoint = args[3];
        String sqsQueue = args[4];

        CachingConnectionFactory rabbit = new CachingConnectionFactory("127.0.0.1", amqpPort);
        rabbit.setUsername("guest");
        rabbit.setPassword("guest");

        String sqs = "aws2-sqs://" + sqsQueue + "?overrideEndpoint=true&uriEndpointOverride=" + sqsEndpoint
                + "&region=us-east-1&accessKey=local&secretKey=local";
        String source = "spring-rabbitmq:default?queues=" + rabbitQueue + "&autoDeclare=false";

        Main main = new Main();
        main.bind("rabbitConnectionFactory", rabbit);
        main.configure().addRoutesBuilder(new RouteBuilder() {
            @Override
            public void configure() {
                if (mode.equals("batch")) {
                    from(source).routeId("camel-batch")
                            .convertBodyTo(String.class) // sendBatchMessage casts each element to String
                            .aggregate(constant(true), new GroupedBodyAggregationStrategy())
                            .completionSize(10).completionTimeout(100)
                            .to(sqs + "&operation=sendBatchMessage");
                } else {
                    from(source).routeId("camel-default").to(sqs);
                }
            }
        });
        main.run();
    }
}
