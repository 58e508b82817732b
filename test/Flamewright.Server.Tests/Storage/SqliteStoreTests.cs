using Flamewright.Server.Storage;
using Flamewright.Server.Storage.Sqlite;
using Microsoft.Data.Sqlite;

namespace Flamewright.Server.Tests.Storage;

/// <summary>The storage contract on the embedded SQLite file; a "node" is another store on the same file.</summary>
public sealed class SqliteStoreTests : ProfilingStoreContract, IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("flamewright-store-").FullName;

    protected override Task<SqlProfilingStore> CreateStoreAsync() => Task.FromResult<SqlProfilingStore>(new SqliteProfilingStore(_directory));

    protected override SqlProfilingStore OpenAnotherNode() => new SqliteProfilingStore(_directory);

    protected override string HexLiteral(byte[] bytes) => $"X'{Convert.ToHexString(bytes)}'";

    protected override async Task ExecuteRawAsync(string sql)
    {
        await using var connection = new SqliteConnection($"Data Source={Path.Combine(_directory, SqliteProfilingStore.FileName)}");
        await connection.OpenAsync();
        await using SqliteCommand command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }
}
