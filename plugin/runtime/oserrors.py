"""Chinese wording for operating-system errors met while writing files.

``OSError.strerror`` is English ("No space left on device"); an archivist reading
"写入档案包失败" must learn in Chinese what to do about it: free space, ask for quota,
fix permissions.
"""

from __future__ import annotations

import errno

_REASONS = {
    errno.ENOSPC: "磁盘空间不足，请清理空间或换一个有足够空间的位置后重新运行",
    errno.EDQUOT: "超出磁盘配额，请清理空间或申请更多配额后重新运行",
    errno.EROFS: "目标位置是只读的文件系统",
    errno.EACCES: "没有写入权限",
    errno.EPERM: "没有写入权限",
    errno.ENOENT: "路径不存在",
    errno.EISDIR: "目标位置已有同名文件夹",
    errno.ENOTDIR: "路径中有一部分不是文件夹",
    errno.EIO: "磁盘读写错误（输入/输出错误），请检查磁盘",
    errno.EFBIG: "文件超过文件系统允许的大小",
    errno.ENAMETOOLONG: "文件名过长",
    errno.EMFILE: "打开的文件过多",
}


def os_error_reason(exc: OSError) -> str:
    """A Chinese sentence for ``exc`` (the error code in brackets for the administrator)."""
    reason = _REASONS.get(exc.errno or 0)
    if reason:
        name = errno.errorcode.get(exc.errno or 0, "")
        return f"{reason}（{name}）" if name else reason
    return f"系统错误：{exc.strerror or exc}"


def is_disk_full(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)
