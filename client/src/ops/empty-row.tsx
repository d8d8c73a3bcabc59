/** A table's only row when it has nothing to list. */
export function EmptyRow({ columns }: { columns: number }) {
  return (
    <tr>
      <td colSpan={columns} className="ops-none">
        none
      </td>
    </tr>
  );
}
