using Npgsql;

namespace Flamewright.Server.Tests.Storage;

/// <summary>The fixture behind the PostgreSQL store tests: a real server, one empty database per test, loopback only.</summary>
public sealed class PostgresClusterTests
{
    [Fact(Timeout = Spec.Timeout)]
    public Task A_created_database_accepts_a_connection_and_answers_with_the_PostgreSQL_version() => Spec.Run(async () =>
    {
        PostgresCluster cluster = await PostgresCluster.SharedAsync();

        string connectionString = await cluster.CreateDatabaseAsync();

        var settings = new NpgsqlConnectionStringBuilder(connectionString);
        Assert.StartsWith("fw_", settings.Database);
        Assert.Equal(cluster.Port, settings.Port);
        Assert.StartsWith("PostgreSQL ", (string?)await ScalarAsync(connectionString, "SELECT version()"));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Two_created_databases_are_distinct() => Spec.Run(async () =>
    {
        PostgresCluster cluster = await PostgresCluster.SharedAsync();
        string first = await cluster.CreateDatabaseAsync();
        string second = await cluster.CreateDatabaseAsync();

        await ScalarAsync(first, "CREATE TABLE marker (id int)");

        Assert.NotEqual(first, second);
        Assert.Equal(true, await ScalarAsync(first, "SELECT to_regclass('marker') IS NOT NULL"));
        Assert.Equal(true, await ScalarAsync(second, "SELECT to_regclass('marker') IS NULL"));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task The_server_listens_only_on_loopback() => Spec.Run(async () =>
    {
        PostgresCluster cluster = await PostgresCluster.SharedAsync();
        string connectionString = await cluster.CreateDatabaseAsync();

        object? listen = await ScalarAsync(connectionString, "SHOW listen_addresses");
        object? sockets = await ScalarAsync(connectionString, "SHOW unix_socket_directories");

        // A server given by FLAMEWRIGHT_TEST_POSTGRESQL is configured by whoever runs it.
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("FLAMEWRIGHT_TEST_POSTGRESQL")))
        {
            Assert.Equal("127.0.0.1", listen);
            Assert.Equal("", sockets);
        }
    });

    private static async Task<object?> ScalarAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }
}
