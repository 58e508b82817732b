using Flamewright.Server.Storage;
using Flamewright.Server.Storage.Postgres;
using Npgsql;

namespace Flamewright.Server.Tests.Storage;

/// <summary>The storage contract on a real PostgreSQL server: a database of its own per test; a "node" is another store on it.</summary>
public sealed class PostgresStoreTests : ProfilingStoreContract
{
    private string _connectionString = "";

    protected override async Task<SqlProfilingStore> CreateStoreAsync()
    {
        PostgresCluster cluster = await PostgresCluster.SharedAsync();
        _connectionString = await cluster.CreateDatabaseAsync();
        return new PostgresProfilingStore(_connectionString);
    }

    protected override SqlProfilingStore OpenAnotherNode() => new PostgresProfilingStore(_connectionString);

    protected override string HexLiteral(byte[] bytes) => $"'\\x{Convert.ToHexString(bytes)}'::bytea";

    protected override async Task ExecuteRawAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        await using NpgsqlCommand command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }
}
