using System.Data.Common;
using Flamewright.Server.Hosting;
using Microsoft.Data.Sqlite;

namespace Flamewright.Server.Storage.Sqlite;

/// <summary>
/// The embedded store: one SQLite file in write-ahead-log mode under the data directory. Readers run beside
/// the single writer; this process serialises its own writers so that none waits on SQLite's busy lock.
/// </summary>
public sealed class SqliteProfilingStore : SqlProfilingStore, IDisposable
{
    /// <summary>The database file's name inside the data directory.</summary>
    public const string FileName = "flamewright.db";

    private readonly string _connectionString;
    private readonly Turns _writer = new(1);

    public SqliteProfilingStore(string dataDirectory)
    {
        Directory.CreateDirectory(dataDirectory);
        Path = System.IO.Path.GetFullPath(System.IO.Path.Combine(dataDirectory, FileName));
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            // Seconds a statement waits for a lock held by another process before failing.
            DefaultTimeout = 30,
        }.ToString();
    }

    /// <summary>The database file.</summary>
    public string Path { get; }

    public override string Location => Path;

    protected override IReadOnlyList<Migration> Migrations { get; } =
    [
        new Migration(1, "services, instances, tasks, logs, uploads", SchemaVersion1(sequenceKey: "INTEGER PRIMARY KEY AUTOINCREMENT", binary: "BLOB")),
    ];

    protected override async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using SqliteCommand pragma = connection.CreateCommand();
            // WAL: readers never block the writer. NORMAL sync is durable against a killed process, which is
            // the failure this server must survive; only a power loss can take the last commits.
            pragma.CommandText = "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 30000;";
            await pragma.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    protected override async ValueTask<IDisposable> EnterWriteAsync(CancellationToken cancellationToken) =>
        await _writer.TakeAsync(cancellationToken).ConfigureAwait(false);

    public void Dispose() => _writer.Dispose();
}
