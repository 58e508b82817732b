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
        DataDirectory.Prepare(dataDirectory);
        Path = System.IO.Path.GetFullPath(System.IO.Path.Combine(dataDirectory, FileName));
        PrepareFiles(Path);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            // Seconds a statement waits for a lock held by another process before failing.
            DefaultTimeout = 30,
        }.ToString();
    }

    /// <summary>
    /// Creates the database file private to this user before SQLite opens it: SQLite gives its write-ahead log and
    /// shared-memory files the database file's mode, so all three stay 0600. Files an earlier version left 0644 are
    /// made private, and a database this process cannot write stops the start with one line.
    /// </summary>
    private static void PrepareFiles(string path)
    {
        try
        {
            using (File.Open(path, DataDirectory.CreatePrivateOptions(FileMode.CreateNew)))
            {
            }
        }
        catch (IOException) when (File.Exists(path))
        {
            // It exists already.
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new Configuration.SettingsException($"cannot create the database {path}: {e.Message.ReplaceLineEndings(" ")}", e);
        }

        foreach (string file in (string[])[path, path + "-wal", path + "-shm"])
        {
            DataDirectory.MakePrivate(file);
            if (DataDirectory.FileWriteProblem(file) is { } problem)
            {
                throw new Configuration.SettingsException($"cannot write the database {file}: {problem}");
            }
        }
    }

    /// <summary>Why the database cannot be written now (its directory or file became read-only), or <c>null</c>.</summary>
    public override async Task<string?> WriteProblemAsync(CancellationToken cancellationToken)
    {
        string directory = System.IO.Path.GetDirectoryName(Path)!;
        return DataDirectory.WriteProblem(directory) is { } dir ? $"cannot write {directory}: {dir}"
            : DataDirectory.FileWriteProblem(Path) is { } file ? $"cannot write {Path}: {file}"
            : await base.WriteProblemAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The database file.</summary>
    public string Path { get; }

    public override string Location => Path;

    protected override IReadOnlyList<Migration> Migrations { get; } =
    [
        new Migration(1, "services, instances, tasks, logs, uploads", SchemaVersion1(sequenceKey: "INTEGER PRIMARY KEY AUTOINCREMENT", binary: "BLOB")),
        new Migration(2, "uploads carry their digest (docs/digest.md)", SchemaVersion2Digest("BLOB")),
        new Migration(3, "views of tasks kept for restarts and other nodes", SchemaVersion3Views("BLOB")),
        new Migration(4, "dashboard templates of the web UI", SchemaVersion4Templates),
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
