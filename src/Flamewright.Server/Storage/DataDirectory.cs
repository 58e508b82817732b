using Flamewright.Server.Configuration;

namespace Flamewright.Server.Storage;

/// <summary>
/// The data directory: created for this user alone (0700), its files readable by this user alone (0600), and
/// checked at start so that a directory the server cannot write stops it with one line naming the path, instead
/// of a server that says it listens while every upload fails. Profiles show a company's code and its load: other
/// local users have no business reading them (docs/security.md, "Files").
/// </summary>
public static class DataDirectory
{
    /// <summary>rwx for the owner only.</summary>
    public const UnixFileMode PrivateDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>rw for the owner only.</summary>
    public const UnixFileMode PrivateFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>Creates <paramref name="path"/> (and its parents) if missing, private, and checks that files can be made in it.</summary>
    /// <exception cref="SettingsException">The directory cannot be created or written.</exception>
    public static void Prepare(string path)
    {
        string full = Path.GetFullPath(path);
        try
        {
            CreatePrivate(full);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SettingsException($"cannot create the data directory {full}: {OneLine(e)}", e);
        }

        if (WriteProblem(full) is { } problem)
        {
            throw new SettingsException($"cannot write the data directory {full}: {problem}");
        }
    }

    /// <summary>Creates a directory, private to this user, if it is missing; an existing one keeps its mode.</summary>
    public static void CreatePrivate(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
        }
        else if (!Directory.Exists(path))
        {
            // Parents made on the way are private too: the mode applies to each directory created.
            Directory.CreateDirectory(path, PrivateDirectory);
        }
    }

    /// <summary>Why a file cannot be created in <paramref name="directory"/>, or <c>null</c> when one can.</summary>
    public static string? WriteProblem(string directory)
    {
        string probe = Path.Combine(directory, $".write-check-{Guid.NewGuid():N}");
        try
        {
            using (File.Open(probe, CreatePrivateOptions(FileMode.CreateNew, FileOptions.DeleteOnClose)))
            {
            }

            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return OneLine(e);
        }
    }

    /// <summary>Why <paramref name="file"/> cannot be opened for writing, or <c>null</c> when it can (or does not exist).</summary>
    public static string? FileWriteProblem(string file)
    {
        try
        {
            using (File.Open(file, new FileStreamOptions { Mode = FileMode.Open, Access = FileAccess.ReadWrite, Share = FileShare.ReadWrite | FileShare.Delete }))
            {
            }

            return null;
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return OneLine(e);
        }
    }

    /// <summary>Options that create a file readable and writable by this user alone.</summary>
    public static FileStreamOptions CreatePrivateOptions(FileMode mode, FileOptions options = FileOptions.None, int bufferSize = 4096)
    {
        var created = new FileStreamOptions { Mode = mode, Access = FileAccess.ReadWrite, Share = FileShare.None, Options = options, BufferSize = bufferSize };
        if (!OperatingSystem.IsWindows())
        {
            created.UnixCreateMode = PrivateFile;
        }

        return created;
    }

    /// <summary>
    /// Takes group and other permissions off an existing file (one an earlier version created 0644); a missing
    /// file is left missing.
    /// </summary>
    public static void MakePrivate(string file)
    {
        if (OperatingSystem.IsWindows() || !File.Exists(file))
        {
            return;
        }

        const UnixFileMode others = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
            | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;
        try
        {
            UnixFileMode mode = File.GetUnixFileMode(file);
            if ((mode & others) != 0)
            {
                File.SetUnixFileMode(file, mode & ~others);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Another user's file: left as it is; whether it can be written is checked on its own.
        }
    }

    private static string OneLine(Exception e) => e.Message.ReplaceLineEndings(" ");
}
