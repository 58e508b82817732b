using System.Runtime.InteropServices;

namespace Flamewright.Server.Hosting;

/// <summary>
/// Runs seconds of synchronous CPU work (parsing an upload, reading a digest, building a tree) on a thread of its own
/// instead of a thread-pool thread. The pool's threads serve every request and every agent's stream; with its minimum at
/// the core count, a few such jobs left nothing to answer a task list with until the pool grew (measured under the load
/// benchmark: benchmarks/README.md, "the thread pool under load"). How many run at once stays bounded by the turns
/// that wrap them (<c>MaxConcurrentParses</c>, <c>MaxConcurrentAnalyses</c>).
/// </summary>
internal static partial class CpuWork
{
    /// <summary>Runs <paramref name="work"/> on a thread of its own; its exception is the task's.</summary>
    public static Task<T> RunAsync<T>(Func<T> work) =>
        Task.Factory.StartNew(work, CancellationToken.None, TaskCreationOptions.LongRunning | TaskCreationOptions.DenyChildAttach, TaskScheduler.Default);

    /// <summary>
    /// <see cref="RunAsync{T}"/> on a thread whose Linux nice value is <paramref name="niceness"/> (0 to 19; 0 leaves
    /// it as it is): work nobody is waiting to see, such as checking an upload, then yields the CPU to what a person
    /// waits for whenever both want it (docs/server.md, "Who gets the CPU"). Elsewhere, and where the kernel refuses,
    /// the thread keeps its priority. The thread is the work's alone and ends with it, so the value goes with it.
    /// </summary>
    public static Task<T> RunNicedAsync<T>(int niceness, Func<T> work) =>
        niceness == 0 ? RunAsync(work) : RunAsync(() =>
        {
            Nice(niceness);
            return work();
        });

    /// <summary>Sets the calling thread's nice value; false where that cannot be done.</summary>
    internal static bool Nice(int niceness)
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        // On Linux a nice value is a thread's, named by its kernel id: setpriority(PRIO_PROCESS, tid, value).
        const int PrioProcess = 0;
        return SetPriority(PrioProcess, GetThreadId(), niceness) == 0;
    }

    /// <summary>The calling thread's nice value (Linux only).</summary>
    internal static int CurrentNiceness()
    {
        // getpriority may return -1 as a value; a nice value read from the kernel's file for the thread is plain.
        string[] fields = File.ReadAllText($"/proc/self/task/{GetThreadId()}/stat").Split(')')[^1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        // After the command's closing parenthesis: state is field 3 of stat, nice field 19.
        return int.Parse(fields[19 - 3], System.Globalization.CultureInfo.InvariantCulture);
    }

    [LibraryImport("libc", EntryPoint = "setpriority")]
    private static partial int SetPriority(int which, int who, int priority);

    [LibraryImport("libc", EntryPoint = "gettid")]
    private static partial int GetThreadId();
}
