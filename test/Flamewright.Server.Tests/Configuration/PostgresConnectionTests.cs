using Flamewright.Server.Configuration;
using Flamewright.Server.Storage.Postgres;
using Npgsql;

namespace Flamewright.Server.Tests.Configuration;

/// <summary>From SkyWalking's JDBC settings or an Npgsql connection string to the connection the store opens.</summary>
public sealed class PostgresConnectionTests
{
    [Theory(Timeout = Spec.Timeout)]
    [InlineData("jdbc:postgresql://localhost:5432/skywalking", "localhost", 5432, "skywalking")]
    [InlineData("jdbc:postgresql://db.internal/flamewright", "db.internal", 5432, "flamewright")]
    [InlineData("jdbc:postgresql://127.0.0.1:6543/my%20db", "127.0.0.1", 6543, "my db")]
    [InlineData("jdbc:postgresql://[::1]:5433/fw", "[::1]:5433", 5432, "fw")]
    [InlineData("jdbc:postgresql://a:5432,b:5433/fw", "a:5432,b:5433", 5432, "fw")]
    public Task SkyWalkings_JDBC_URL_names_the_same_server_and_database(string url, string host, int port, string database) => Spec.Run(() =>
    {
        var built = new NpgsqlConnectionStringBuilder(PostgresConnection.Build(Options(jdbcUrl: url)));

        Assert.Equal((host, port, database), (built.Host, built.Port, built.Database));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task JDBC_parameters_become_their_Npgsql_settings_and_driver_tuning_is_ignored() => Spec.Run(() =>
    {
        var built = new NpgsqlConnectionStringBuilder(PostgresConnection.Build(Options(jdbcUrl:
            "jdbc:postgresql://db:5432/fw?user=u&password=p%26w&sslmode=require&connectTimeout=7&currentSchema=profiles&targetServerType=primary&rewriteBatchedInserts=true")));

        Assert.Equal(("u", "p&w", SslMode.Require, 7, "profiles", "primary"),
            (built.Username, built.Password, built.SslMode, built.Timeout, built.SearchPath, built.TargetSessionAttributes));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task SkyWalkings_user_and_password_fill_in_what_the_URL_leaves_out_and_never_override_it() => Spec.Run(() =>
    {
        var filled = new NpgsqlConnectionStringBuilder(PostgresConnection.Build(Options(jdbcUrl: "jdbc:postgresql://db/fw", user: "sw", password: "pw")));
        var kept = new NpgsqlConnectionStringBuilder(PostgresConnection.Build(Options(jdbcUrl: "jdbc:postgresql://db/fw?user=own", user: "sw")));

        Assert.Equal(("sw", "pw"), (filled.Username, filled.Password));
        Assert.Equal("own", kept.Username);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_connection_string_wins_over_the_URL_and_keeps_its_own_pool_size() => Spec.Run(() =>
    {
        var own = new NpgsqlConnectionStringBuilder(PostgresConnection.Build(Options(
            connectionString: "Host=127.0.0.1;Database=mine;Maximum Pool Size=7", jdbcUrl: "jdbc:postgresql://other/theirs")));
        var defaulted = new NpgsqlConnectionStringBuilder(PostgresConnection.Build(Options(connectionString: "Host=127.0.0.1;Database=mine")));

        Assert.Equal(("127.0.0.1", "mine", 7), (own.Host, own.Database, own.MaxPoolSize));
        Assert.Equal(new ServerOptions().PostgresMaxPoolSize, defaulted.MaxPoolSize);
        Assert.Equal("flamewright", defaulted.ApplicationName);
    });

    [Theory(Timeout = Spec.Timeout)]
    [InlineData("", "", "Storage postgresql needs a database: set PostgresConnectionString (SW_STORAGE_POSTGRESQL_CONNECTION_STRING) or SW_JDBC_URL")]
    [InlineData("", "jdbc:mysql://db:3306/sw", "SW_JDBC_URL: expected jdbc:postgresql://host:port/database")]
    [InlineData("", "jdbc:postgresql://db:99999/sw", "SW_JDBC_URL: a port is not a number between 1 and 65535")]
    [InlineData("", "jdbc:postgresql://u:secret@db:99999/fw", "SW_JDBC_URL: a port is not a number between 1 and 65535")]
    [InlineData("", "jdbc:postgresql://db:5432/fw;password=secret", "SW_JDBC_URL: the database name holds ';', '/', '?' or '@': parameters follow '?' (…/database?user=…&password=…)")]
    [InlineData("", "jdbc:postgresql://db/fw?secret", "SW_JDBC_URL: parameter 'secret' is not understood (use PostgresConnectionString for Npgsql's own settings)")]
    [InlineData("", "jdbc:postgresql://db/fw?x%3Dsecret%21", "SW_JDBC_URL: a parameter is not understood (use PostgresConnectionString for Npgsql's own settings)")]
    [InlineData("", "jdbc:postgresql://db/fw?connectTimeout=secret", "SW_JDBC_URL: connectTimeout is not a whole number of seconds")]
    [InlineData("", "jdbc:postgresql://db/sw?password=secret&colour=blue", "SW_JDBC_URL: parameter 'colour' is not understood (use PostgresConnectionString for Npgsql's own settings)")]
    [InlineData("", "jdbc:postgresql://db/sw?sslmode=secret", "SW_JDBC_URL: sslmode is not one of disable, allow, prefer, require, verify-ca, verify-full")]
    [InlineData("Database=fw", "", "PostgresConnectionString: no Host given")]
    public Task Unusable_settings_are_refused_with_one_line_that_never_shows_a_password(string connectionString, string url, string message) => Spec.Run(() =>
    {
        var refused = Assert.Throws<SettingsException>(() => PostgresConnection.Build(Options(connectionString, url)));

        Assert.Equal(message, refused.Message);
        // The one message that names a key: a key written alone is a name, and it names what is wrong.
        Assert.True(!refused.Message.Contains("secret", StringComparison.Ordinal) || url.EndsWith("?secret", StringComparison.Ordinal));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_connection_string_with_an_unknown_keyword_is_refused_by_the_setting_name() => Spec.Run(() =>
    {
        var refused = Assert.Throws<SettingsException>(() => PostgresConnection.Build(Options(connectionString: "Host=db;Password=secret;Colour=blue")));

        Assert.StartsWith("PostgresConnectionString: ", refused.Message);
        Assert.DoesNotContain("secret", refused.Message);
        Assert.DoesNotContain('\n', refused.Message);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task What_config_show_prints_has_every_password_replaced() => Spec.Run(() =>
    {
        Assert.Equal("Host=db;Password=****", PostgresConnection.Masked("Host=db;Password=secret"));
        Assert.Equal("jdbc:postgresql://db/fw?user=u&password=****&ssl=true", PostgresConnection.MaskedJdbcUrl("jdbc:postgresql://db/fw?user=u&password=secret&ssl=true"));
        Assert.Equal("jdbc:postgresql://u:****@127.0.0.1:1/fw", PostgresConnection.MaskedJdbcUrl("jdbc:postgresql://u:secret@127.0.0.1:1/fw"));
        Assert.Equal("jdbc:postgresql://db/fw;password=****", PostgresConnection.MaskedJdbcUrl("jdbc:postgresql://db/fw;password=secret"));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Credentials_before_the_host_are_read_as_libpq_reads_them() => Spec.Run(() =>
    {
        var built = new NpgsqlConnectionStringBuilder(PostgresConnection.Build(Options(jdbcUrl: "jdbc:postgresql://fw%40corp:p%40ss@db:6543/fw")));

        Assert.Equal(("db", 6543, "fw", "fw@corp", "p@ss"), (built.Host, built.Port, built.Database, built.Username, built.Password));
    });

    private static ServerOptions Options(string connectionString = "", string jdbcUrl = "", string user = "", string password = "") => new()
    {
        Storage = "postgresql",
        PostgresConnectionString = connectionString,
        JdbcUrl = jdbcUrl,
        DataSourceUser = user,
        DataSourcePassword = password,
    };
}
