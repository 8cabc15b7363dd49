package dev.timbre.cli;

import com.zaxxer.hikari.HikariDataSource;
import dev.timbre.config.TimbreConfig;
import dev.timbre.db.DatabasePool;
import dev.timbre.db.Migrations;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code timbre migrate}: applies the versioned migrations of {@code infra/db/} (packaged in the jar). */
@Command(name = "migrate", mixinStandardHelpOptions = true,
        description = {"Apply the database migrations (Flyway, infra/db/) to TIMBRE_DB_URL.",
                "Never run implicitly by the Lambda function; run it once per deploy."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:schema up to date", "3:bad configuration", "1:the database refused or is unreachable"})
final class MigrateCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    VerboseOption verbosity;

    @Override
    public Integer call() {
        TimbreConfig.DatabaseSettings db = TimbreConfig.databaseFromEnv(System.getenv());
        try (HikariDataSource ds = DatabasePool.open(db.url(), db.user(), db.password().orElse(null),
                Migrations.CONNECTIONS)) {
            int applied = Migrations.migrate(ds);
            spec.commandLine().getOut().println("migrations applied: " + applied);
            spec.commandLine().getOut().flush();
        }
        return ExitCodes.OK;
    }
}
